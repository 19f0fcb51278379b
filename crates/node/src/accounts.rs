//! Checking credentials: HTTP Basic passwords (argon2id) and Bearer API tokens.
//!
//! - Passwords are stored as argon2id PHC strings. Verifying one is deliberately slow
//!   (tens of milliseconds, and memory-hard), which is right for a login but too slow
//!   to repeat on every TAXII request of a client paging through a collection. So a
//!   successful verification is remembered for [`PASSWORD_CACHE_TTL`], keyed by
//!   SHA-256 of (user, password, stored hash): the same user presenting the same
//!   password against the same stored hash is let in without re-running argon2, and a
//!   password change (a new stored hash) or removal invalidates the entry. Failures are
//!   never cached, so guessing always costs a full argon2 verification. An unknown
//!   user name is verified against a fixed dummy hash, so a wrong user costs the same
//!   time as a wrong password and names cannot be probed by timing.
//! - API tokens are 32 random bytes, shown once and stored as the SHA-256 of their
//!   text. A presented token is hashed and compared with every stored digest in
//!   constant time ([`subtle::ConstantTimeEq`]), without stopping at a match.
//!
//! ```
//! use accord_node::accounts::{new_token, Accounts, Credential};
//! use accord_node::config::Config;
//! let token = new_token();
//! let text = format!(r#"
//! [server]
//! organisation = "telco"
//! identity = "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
//! [organisations.telco.tokens.sensor]
//! sha256 = "{}"
//! "#, token.sha256);
//! let config = Config::parse(&text, "accord.toml".as_ref())?;
//! let accounts = Accounts::from_config(&config);
//! let who = accounts.verify_token(&token.secret).unwrap();
//! assert_eq!((who.organisation.as_str(), who.name.as_str()), ("telco", "sensor"));
//! assert_eq!(who.credential, Credential::Token);
//! assert!(accounts.verify_token("accord_wrong").is_none());
//! # Ok::<(), accord_node::config::ConfigError>(())
//! ```

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::Config;

/// How long a successful password verification is remembered.
pub const PASSWORD_CACHE_TTL: Duration = Duration::from_secs(300);

/// Most remembered verifications; when full, expired entries go, and if none had
/// expired the whole cache is dropped (a flood of distinct valid logins only costs
/// re-verification).
pub const PASSWORD_CACHE_CAPACITY: usize = 10_000;

/// Shortest password the CLI accepts for a new or changed password.
pub const MIN_PASSWORD_LEN: usize = 12;

/// Every API token starts with this, so leaked tokens are easy to recognise (secret
/// scanners) and cannot be confused with a password.
pub const TOKEN_PREFIX: &str = "accord_";

/// How a principal proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// HTTP Basic, user name and password.
    Password,
    /// HTTP Bearer, an API token.
    Token,
}

/// Who is making a request: an organisation, and the user or token name within it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The organisation, as named in the configuration.
    pub organisation: String,
    /// The user name, or the token name.
    pub name: String,
    /// How it authenticated.
    pub credential: Credential,
}

/// Why a password or hash could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    /// The password is too short.
    #[error("the password must be at least {MIN_PASSWORD_LEN} characters long")]
    PasswordTooShort,
    /// Hashing failed (it does not for valid parameters; reported rather than panicking).
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

struct UserEntry {
    organisation: String,
    hash: String,
}

struct TokenEntry {
    digest: [u8; 32],
    organisation: String,
    name: String,
}

/// The credentials a configuration declares, ready to check requests against.
pub struct Accounts {
    users: HashMap<String, UserEntry>,
    tokens: Vec<TokenEntry>,
    /// `std::sync::Mutex`: held for one map lookup or insert, never across argon2.
    verified: Mutex<HashMap<[u8; 32], Instant>>,
}

impl Accounts {
    /// The users and tokens of `config`.
    pub fn from_config(config: &Config) -> Accounts {
        let mut users = HashMap::new();
        let mut tokens = Vec::new();
        for (org, o) in &config.organisations {
            for (name, user) in &o.users {
                users.insert(
                    name.clone(),
                    UserEntry {
                        organisation: org.clone(),
                        hash: user.password.clone(),
                    },
                );
            }
            for (name, token) in &o.tokens {
                let mut digest = [0u8; 32];
                if hex::decode_to_slice(&token.sha256, &mut digest).is_ok() {
                    tokens.push(TokenEntry {
                        digest,
                        organisation: org.clone(),
                        name: name.clone(),
                    });
                }
            }
        }
        Accounts {
            users,
            tokens,
            verified: Mutex::new(HashMap::new()),
        }
    }

    /// The principal for `user` if `password` was verified recently (no argon2 run).
    /// `None` means "not known to be valid": call [`Accounts::verify_password`].
    pub fn cached_password(&self, user: &str, password: &str) -> Option<Principal> {
        let entry = self.users.get(user)?;
        let key = cache_key(user, password, &entry.hash);
        let cache = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = cache
            .get(&key)
            .is_some_and(|at| at.elapsed() < PASSWORD_CACHE_TTL);
        fresh.then(|| principal(user, &entry.organisation, Credential::Password))
    }

    /// Check a user name and password (argon2id; slow by design, run it off the async
    /// executor). Remembers a success for [`PASSWORD_CACHE_TTL`].
    pub fn verify_password(&self, user: &str, password: &str) -> Option<Principal> {
        if let Some(p) = self.cached_password(user, password) {
            return Some(p);
        }
        let Some(entry) = self.users.get(user) else {
            // Same work as for a known user, so user names cannot be probed by timing.
            let _ = verify_phc(password, dummy_hash());
            return None;
        };
        if !verify_phc(password, &entry.hash) {
            return None;
        }
        self.remember(cache_key(user, password, &entry.hash));
        Some(principal(user, &entry.organisation, Credential::Password))
    }

    /// Check an API token (constant-time comparison against every stored digest).
    pub fn verify_token(&self, token: &str) -> Option<Principal> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found: Option<&TokenEntry> = None;
        for entry in &self.tokens {
            if bool::from(entry.digest.ct_eq(&digest)) {
                found = Some(entry);
            }
        }
        found.map(|e| principal(&e.name, &e.organisation, Credential::Token))
    }

    fn remember(&self, key: [u8; 32]) {
        let mut cache = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= PASSWORD_CACHE_CAPACITY {
            cache.retain(|_, at| at.elapsed() < PASSWORD_CACHE_TTL);
            if cache.len() >= PASSWORD_CACHE_CAPACITY {
                cache.clear();
            }
        }
        cache.insert(key, Instant::now());
    }
}

fn principal(name: &str, organisation: &str, credential: Credential) -> Principal {
    Principal {
        organisation: organisation.to_string(),
        name: name.to_string(),
        credential,
    }
}

fn cache_key(user: &str, password: &str, hash: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [user, password, hash] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().into()
}

fn verify_phc(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(hash) => Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok(),
        Err(_) => false,
    }
}

/// A valid argon2id hash of a random password, made once per process.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password_unchecked(&generate_password()).unwrap_or_default())
}

/// Hash a new password with argon2id (default parameters, random salt) into a PHC
/// string for the configuration. Refuses passwords shorter than [`MIN_PASSWORD_LEN`].
///
/// ```
/// let phc = accord_node::accounts::hash_password("correct horse battery")?;
/// assert!(phc.starts_with("$argon2id$"));
/// assert!(accord_node::accounts::hash_password("short").is_err());
/// # Ok::<(), accord_node::accounts::AccountError>(())
/// ```
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AccountError::PasswordTooShort);
    }
    hash_password_unchecked(password)
}

fn hash_password_unchecked(password: &str) -> Result<String, AccountError> {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hashing(e.to_string()))
}

/// Is `phc` a usable argon2id PHC string? (`Err` says why, for configuration checks.)
pub fn check_password_hash(phc: &str) -> Result<(), String> {
    let hash = PasswordHash::new(phc)
        .map_err(|e| format!("not an argon2id PHC string ($argon2id$v=19$...): {e}"))?;
    if hash.algorithm.as_str() != "argon2id" {
        return Err(format!(
            "the algorithm is {}, not argon2id",
            hash.algorithm.as_str()
        ));
    }
    if hash.hash.is_none() || hash.salt.is_none() {
        return Err("the PHC string has no salt or no hash".to_string());
    }
    Ok(())
}

/// A random password (24 characters of base64url, 144 bits).
pub fn generate_password() -> String {
    let mut bytes = [0u8; 18];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A new API token: the secret to show once, and the digest to store.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// The token text (`accord_` + 43 characters of base64url: 32 random bytes).
    pub secret: String,
    /// SHA-256 of `secret`, lowercase hex: what the configuration keeps.
    pub sha256: String,
}

/// Make a new API token from 32 bytes of operating-system randomness.
pub fn new_token() -> NewToken {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let sha256 = token_sha256(&secret);
    NewToken { secret, sha256 }
}

/// SHA-256 of a token text, lowercase hex.
pub fn token_sha256(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Config {
        let text = format!(
            "[server]\norganisation = \"telco\"\nidentity = \"identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\"\n\
             [organisations.telco]\n[organisations.police]\n{extra}"
        );
        match Config::parse(&text, "accord.toml".as_ref()) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn passwords_verify_and_successes_are_cached() {
        let hash = hash_password("a long enough password").unwrap();
        let accounts = Accounts::from_config(&config(&format!(
            "[organisations.police.users.ana]\npassword = \"{hash}\"\n"
        )));
        assert!(accounts
            .cached_password("ana", "a long enough password")
            .is_none());
        let p = accounts
            .verify_password("ana", "a long enough password")
            .unwrap();
        assert_eq!(p.organisation, "police");
        assert_eq!(p.credential, Credential::Password);
        assert!(accounts
            .cached_password("ana", "a long enough password")
            .is_some());
        assert!(accounts
            .verify_password("ana", "a long enough passwore")
            .is_none());
        assert!(accounts
            .cached_password("ana", "a long enough passwore")
            .is_none());
        assert!(accounts
            .verify_password("bob", "a long enough password")
            .is_none());
    }

    #[test]
    fn cache_key_separates_fields() {
        assert_ne!(cache_key("ab", "c", "h"), cache_key("a", "bc", "h"));
    }

    #[test]
    fn tokens_are_prefixed_random_and_checked() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with(TOKEN_PREFIX));
        assert_eq!(a.secret.len(), TOKEN_PREFIX.len() + 43);
        let accounts = Accounts::from_config(&config(&format!(
            "[organisations.police.tokens.pull]\nsha256 = \"{}\"\n[organisations.telco.tokens.push]\nsha256 = \"{}\"\n",
            a.sha256, b.sha256
        )));
        assert_eq!(
            accounts.verify_token(&a.secret).unwrap().organisation,
            "police"
        );
        assert_eq!(accounts.verify_token(&b.secret).unwrap().name, "push");
        assert!(accounts.verify_token(&a.sha256).is_none());
        assert!(accounts.verify_token("").is_none());
    }

    #[test]
    fn hash_checks() {
        assert!(check_password_hash("plain").is_err());
        assert!(check_password_hash(&hash_password("another fine password").unwrap()).is_ok());
        assert!(generate_password().len() >= MIN_PASSWORD_LEN);
    }
}
