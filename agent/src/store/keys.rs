//! API keys (stored as SHA-256 hashes; the secret is shown once, at creation) and the
//! tenants' webhook endpoints.

use sha2::{Digest, Sha256};
use sqlx::Row;

use super::model::now_ms;
use super::{Store, StoreError};

/// An authenticated key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub rate_per_min: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub secret: String,
}

/// Keys look like `sb_<id>_<secret>`: the id finds the row, the hash of the whole key is
/// compared in constant time.
fn split_key(key: &str) -> Option<&str> {
    let rest = key.strip_prefix("sb_")?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 12 && secret.len() == 32).then_some(id)
}

fn hash(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Equality whose time does not depend on where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Store {
    /// Creates a key for `tenant`; returns it with its secret (never stored, never shown
    /// again).
    ///
    /// # Errors
    /// The database failed.
    pub async fn create_api_key(
        &self,
        tenant: &str,
        name: &str,
        rate_per_min: i64,
    ) -> Result<(ApiKey, String), StoreError> {
        let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        let secret = uuid::Uuid::new_v4().simple().to_string();
        let key = format!("sb_{id}_{secret}");
        sqlx::query(
            "INSERT INTO api_keys (id, tenant_id, name, key_hash, rate_per_min, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(tenant)
        .bind(name)
        .bind(hash(&key))
        .bind(rate_per_min)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        let api_key = ApiKey {
            id,
            tenant: tenant.into(),
            name: name.into(),
            rate_per_min,
        };
        Ok((api_key, key))
    }

    /// The live key `presented` is, if any.
    ///
    /// # Errors
    /// The database failed.
    pub async fn authenticate(&self, presented: &str) -> Result<Option<ApiKey>, StoreError> {
        let Some(id) = split_key(presented) else {
            return Ok(None);
        };
        let row = sqlx::query(
            "SELECT tenant_id, name, key_hash, rate_per_min FROM api_keys
             WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let stored: String = row.try_get("key_hash")?;
        if !constant_time_eq(stored.as_bytes(), hash(presented).as_bytes()) {
            return Ok(None);
        }
        Ok(Some(ApiKey {
            id: id.into(),
            tenant: row.try_get("tenant_id")?,
            name: row.try_get("name")?,
            rate_per_min: row.try_get("rate_per_min")?,
        }))
    }

    /// Registers a webhook endpoint; events are signed with `secret`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn add_webhook(
        &self,
        tenant: &str,
        url: &str,
        secret: &str,
    ) -> Result<String, StoreError> {
        let id = uuid::Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, tenant_id, url, secret, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(tenant)
        .bind(url)
        .bind(secret)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(id)
    }

    /// # Errors
    /// The database failed.
    pub async fn webhooks(&self, tenant: &str) -> Result<Vec<Webhook>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, url, secret FROM webhook_endpoints WHERE tenant_id = $1 ORDER BY id",
        )
        .bind(tenant)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Webhook {
                    id: r.try_get("id")?,
                    url: r.try_get("url")?,
                    secret: r.try_get("secret")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_recognised_by_shape_only() {
        assert_eq!(
            split_key("sb_0123456789ab_0123456789abcdef0123456789abcdef"),
            Some("0123456789ab")
        );
        assert_eq!(split_key("sb_short_0123456789abcdef0123456789abcdef"), None);
        assert_eq!(split_key("Bearer sb_x"), None);
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
