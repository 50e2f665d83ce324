//! The OpenAPI 3.1 description served at `/v1/openapi.json`. A test checks that every route
//! of the router is described here.

use serde_json::{json, Value};

fn op(summary: &str, status: &str, body: Option<&str>) -> Value {
    let mut op = json!({
        "summary": summary,
        "responses": {
            status: { "description": "success" },
            "400": { "$ref": "#/components/responses/Error" },
            "401": { "$ref": "#/components/responses/Error" },
            "404": { "$ref": "#/components/responses/Error" },
            "429": { "$ref": "#/components/responses/Error" }
        }
    });
    if let Some(schema) = body {
        op["requestBody"] = json!({
            "required": true,
            "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } }
        });
    }
    op
}

fn id_param() -> Value {
    json!([{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }])
}

pub fn document() -> Value {
    let open = json!([]);
    let list_params: Vec<Value> = [
        "status",
        "disposition",
        "script_id",
        "direction",
        "since",
        "until",
        "limit",
        "cursor",
    ]
    .iter()
    .map(|n| json!({ "name": n, "in": "query", "schema": { "type": "string" } }))
    .collect();
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Switchboard control API", "version": env!("CARGO_PKG_VERSION") },
        "security": [{ "apiKey": [] }],
        "paths": {
            "/v1/calls": {
                "post": op("Dispatch an outbound call (202, or 200 for a repeated idempotency key)", "202", Some("DispatchRequest")),
                "get": { "summary": "List calls, newest first",
                         "parameters": list_params,
                         "responses": { "200": { "description": "calls and next_cursor" } } }
            },
            "/v1/calls/{id}": { "parameters": id_param(), "get": op("A call: status, disposition, answers, transcript so far, metrics", "200", None) },
            "/v1/calls/{id}/hangup": { "parameters": id_param(), "post": op("Hang up a live call or cancel a queued one", "202", None) },
            "/v1/calls/{id}/transfer": { "parameters": id_param(), "post": op("Blind-transfer a live call (answers once the transport has)", "200", Some("TransferRequest")) },
            "/v1/calls/{id}/events": { "parameters": id_param(), "get": op("Live server-sent events: speaking, line, node, answer, record, ended", "200", None) },
            "/v1/scripts": { "get": op("Live scripts", "200", None) },
            "/v1/scripts/validate": { "post": op("Compile a script sent as YAML; every error with line and column", "200", Some("ValidateRequest")) },
            "/v1/scripts/reload": { "post": op("Reload the scripts directory", "200", None) },
            "/v1/webhooks/livekit": { "post": { "summary": "LiveKit webhook (JWT signature in Authorization)", "security": open,
                                                "responses": { "200": { "description": "accepted" }, "401": { "$ref": "#/components/responses/Error" } } } },
            "/v1/openapi.json": { "get": { "summary": "This document", "security": open, "responses": { "200": { "description": "OpenAPI" } } } },
            "/healthz": { "get": { "summary": "Liveness", "security": open, "responses": { "200": { "description": "ok" } } } },
            "/readyz": { "get": { "summary": "Readiness: database reachable, models loaded", "security": open,
                                  "responses": { "200": { "description": "ready" }, "503": { "description": "not ready" } } } },
            "/metrics": { "get": { "summary": "Prometheus metrics, including per-turn latency histograms", "security": open,
                                   "responses": { "200": { "description": "OpenMetrics text" } } } }
        },
        "components": {
            "securitySchemes": { "apiKey": { "type": "http", "scheme": "bearer", "description": "sb_<id>_<secret>" } },
            "responses": { "Error": { "description": "error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } } },
            "schemas": {
                "Error": { "type": "object", "properties": { "error": { "type": "object", "properties": {
                    "code": { "type": "string" }, "message": { "type": "string" }, "field": { "type": ["string", "null"] } } } } },
                "DispatchRequest": { "type": "object", "required": ["to", "transport"], "additionalProperties": false, "properties": {
                    "to": { "type": "string", "description": "E.164" },
                    "from": { "type": "string", "description": "E.164 caller id" },
                    "transport": { "type": "string", "enum": ["local", "sip", "livekit"] },
                    "script_id": { "type": "string" },
                    "selection": { "type": "object", "properties": { "business_type": { "type": "string" }, "interest_level": { "type": "string" }, "region": { "type": "string" } } },
                    "variables": { "type": "object" },
                    "not_before": { "type": "string", "format": "date-time" },
                    "idempotency_key": { "type": "string" },
                    "lead_id": { "type": "string" },
                    "external_refs": { "type": "object" },
                    "time_zone": { "type": "string", "description": "IANA name" },
                    "max_attempts": { "type": "integer", "minimum": 1, "maximum": 10 },
                    "transport_options": { "type": "object" },
                    "consent": { "type": "object", "required": ["granted", "source"], "properties": { "granted": { "type": "boolean" }, "source": { "type": "string" } } }
                } },
                "TransferRequest": { "type": "object", "required": ["target"], "properties": { "target": { "type": "string" } } },
                "ValidateRequest": { "type": "object", "required": ["yaml"], "properties": { "yaml": { "type": "string" }, "file": { "type": "string" } } }
            }
        }
    })
}
