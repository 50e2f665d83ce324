//! Trace export over OTLP/HTTP (protobuf) when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: each call
//! is a `call` span (call id, tenant) with a `turn` child span per caller turn, batched to
//! `<endpoint>/v1/traces` from a background thread.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing::Subscriber;
use tracing_subscriber::registry::LookupSpan;

/// The exporter's provider: flush and shut it down before the process exits.
pub struct Otlp {
    pub provider: SdkTracerProvider,
}

impl Otlp {
    /// An exporter to `endpoint` (e.g. `http://collector:4318`).
    ///
    /// # Errors
    /// The exporter cannot be built (a malformed endpoint).
    pub fn new(endpoint: &str) -> anyhow::Result<Self> {
        let exporter = SpanExporter::builder()
            .with_http()
            .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
            .build()?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(Resource::builder().with_service_name("switchboard").build())
            .build();
        Ok(Self { provider })
    }

    /// The `tracing` layer that sends spans to this exporter.
    pub fn layer<S>(&self) -> impl tracing_subscriber::Layer<S>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        tracing_opentelemetry::layer().with_tracer(self.provider.tracer("switchboard"))
    }

    /// Sends what is buffered and stops the exporter.
    pub fn shutdown(&self) {
        if let Err(e) = self.provider.force_flush() {
            eprintln!("switchboard: trace export flush failed: {e}");
        }
        let _ = self.provider.shutdown();
    }
}
