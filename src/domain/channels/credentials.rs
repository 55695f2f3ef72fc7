//! Provider credentials of a channel: stored in full, never shown back (`masked`); a masked
//! value sent back unchanged keeps the stored secret.

use serde::{Deserialize, Serialize};

/// Provider credentials. Field names follow the providers' own terms.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Credentials {
    /// Twilio Account SID.
    #[serde(default)]
    pub account_sid: String,
    /// Twilio auth token (secret).
    #[serde(default)]
    pub auth_token: String,
    /// Twilio sending number (E.164) or Messaging Service SID.
    #[serde(default)]
    pub from_number: String,
    /// WhatsApp phone-number id.
    #[serde(default)]
    pub phone_number_id: String,
    /// WhatsApp access token; Instagram user access token (secret).
    #[serde(default)]
    pub access_token: String,
    /// Messenger page id.
    #[serde(default)]
    pub page_id: String,
    /// Messenger page access token (secret).
    #[serde(default)]
    pub page_token: String,
    /// Instagram professional account id (the send endpoint's path segment).
    #[serde(default)]
    pub ig_user_id: String,
    /// Meta app secret for webhook signatures (secret).
    #[serde(default)]
    pub app_secret: String,
    /// Meta webhook verify token (secret).
    #[serde(default)]
    pub verify_token: String,
}

impl Credentials {
    pub(super) fn masked(&self) -> Self {
        Self {
            account_sid: self.account_sid.clone(),
            auth_token: mask(&self.auth_token),
            from_number: self.from_number.clone(),
            phone_number_id: self.phone_number_id.clone(),
            access_token: mask(&self.access_token),
            page_id: self.page_id.clone(),
            page_token: mask(&self.page_token),
            ig_user_id: self.ig_user_id.clone(),
            app_secret: mask(&self.app_secret),
            verify_token: mask(&self.verify_token),
        }
    }
    /// Applies a patch: empty strings and masked values ("••••…") keep the stored secret.
    pub(super) fn merge(&mut self, p: &Credentials) {
        fn set(dst: &mut String, v: &str) {
            if !v.is_empty() && !v.starts_with('•') {
                *dst = v.trim().to_string();
            }
        }
        set(&mut self.account_sid, &p.account_sid);
        set(&mut self.auth_token, &p.auth_token);
        set(&mut self.from_number, &p.from_number);
        set(&mut self.phone_number_id, &p.phone_number_id);
        set(&mut self.access_token, &p.access_token);
        set(&mut self.page_id, &p.page_id);
        set(&mut self.page_token, &p.page_token);
        set(&mut self.ig_user_id, &p.ig_user_id);
        set(&mut self.app_secret, &p.app_secret);
        set(&mut self.verify_token, &p.verify_token);
    }
}

/// "••••abcd": enough to recognise a secret, not to use it.
pub fn mask(secret: &str) -> String {
    if secret.is_empty() {
        return String::new();
    }
    let tail: String = secret
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if secret.chars().count() <= 8 {
        "••••".into()
    } else {
        format!("••••{tail}")
    }
}
