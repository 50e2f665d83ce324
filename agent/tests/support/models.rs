//! The local models, loaded once per test binary (they are shared read-only by every call).

use std::sync::OnceLock;

use speech::models::ModelStore;
use switchboard::local_models::LocalModels;

/// The models, or a panic that says how to fetch them.
pub fn local() -> &'static LocalModels {
    static MODELS: OnceLock<LocalModels> = OnceLock::new();
    MODELS.get_or_init(|| {
        LocalModels::load(&ModelStore::from_env()).unwrap_or_else(|e| {
            panic!("{e:#}\nFetch the models with `cargo run -p switchboard -- models fetch`")
        })
    })
}
