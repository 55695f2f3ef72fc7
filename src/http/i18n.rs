//! English and German UI strings. The user's profile language wins, else the browser's
//! `Accept-Language`, else English.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::domain::users::Lang;

/// (key, English, German)
const STRINGS: &[(&str, &str, &str)] = &[
    ("app.name", "Switchboard", "Switchboard"),
    ("nav.chat", "Chat", "Chat"),
    ("nav.external", "External", "Extern"),
    ("nav.internal", "Internal", "Intern"),
    ("nav.settings", "Settings", "Einstellungen"),
    ("nav.admin", "Admin", "Verwaltung"),
    ("nav.logout", "Log out", "Abmelden"),
    ("login.title", "Sign in", "Anmelden"),
    ("login.username", "Username", "Benutzername"),
    ("login.password", "Password", "Passwort"),
    ("login.submit", "Sign in", "Anmelden"),
    (
        "login.failed",
        "Wrong username or password.",
        "Benutzername oder Passwort falsch.",
    ),
    (
        "setup.title",
        "Create the first administrator",
        "Ersten Administrator anlegen",
    ),
    (
        "setup.intro",
        "This one-time page creates the administrator account. The link was printed in the server log.",
        "Diese einmalige Seite legt das Administratorkonto an. Der Link steht im Server-Log.",
    ),
    ("setup.display_name", "Display name", "Anzeigename"),
    (
        "setup.submit",
        "Create administrator",
        "Administrator anlegen",
    ),
    (
        "setup.invalid",
        "This setup link is not valid (any more). Look for the current one in the server log.",
        "Dieser Einrichtungslink ist nicht (mehr) gültig. Den aktuellen Link finden Sie im Server-Log.",
    ),
    (
        "setup.fingerprint",
        "Certificate fingerprint (SHA-256)",
        "Zertifikat-Fingerabdruck (SHA-256)",
    ),
    ("users.title", "Users", "Benutzer"),
    ("users.new", "New user", "Neuer Benutzer"),
    ("users.role", "Role", "Rolle"),
    ("users.email", "Email", "E-Mail"),
    ("users.extension", "Extension", "Nebenstelle"),
    ("users.disabled", "Disabled", "Deaktiviert"),
    ("users.disable", "Disable", "Deaktivieren"),
    ("users.enable", "Enable", "Aktivieren"),
    (
        "users.reset_password",
        "Reset password",
        "Passwort zurücksetzen",
    ),
    ("users.create", "Create", "Anlegen"),
    ("users.save", "Save", "Speichern"),
    ("chat.title", "Internal chat", "Interner Chat"),
    (
        "chat.find_placeholder",
        "Search colleagues or messages",
        "Kollegen oder Nachrichten suchen",
    ),
    ("chat.new_group", "New group", "Neue Gruppe"),
    ("chat.colleagues", "Colleagues", "Kollegen"),
    ("chat.messages", "Messages", "Nachrichten"),
    ("chat.no_results", "Nothing found", "Nichts gefunden"),
    (
        "chat.empty",
        "Choose a chat, or search a colleague by name, extension or email to start one.",
        "Wählen Sie einen Chat oder suchen Sie einen Kollegen nach Name, Nebenstelle oder E-Mail, um einen zu beginnen.",
    ),
    ("chat.no_chats", "No chats yet", "Noch keine Chats"),
    ("chat.send", "Send", "Senden"),
    (
        "chat.placeholder",
        "Write a message… (Enter sends, Shift+Enter new line)",
        "Nachricht schreiben… (Enter sendet, Umschalt+Enter neue Zeile)",
    ),
    ("chat.typing", "is typing…", "schreibt…"),
    ("chat.read_by", "Read by", "Gelesen von"),
    ("chat.seen", "Seen", "Gesehen"),
    ("chat.pin", "Pin", "Anheften"),
    ("chat.unpin", "Unpin", "Lösen"),
    (
        "chat.mute",
        "Mute notifications",
        "Benachrichtigungen stumm schalten",
    ),
    (
        "chat.unmute",
        "Message notifications",
        "Nachrichten-Benachrichtigungen",
    ),
    ("chat.call", "Call", "Anrufen"),
    ("chat.settings", "Group settings", "Gruppeneinstellungen"),
    ("chat.group_name", "Group name", "Gruppenname"),
    ("chat.rename", "Rename", "Umbenennen"),
    ("chat.members", "Members", "Mitglieder"),
    ("chat.admin", "Admin", "Administrator"),
    ("chat.make_admin", "Hand over admin", "Admin übergeben"),
    ("chat.remove", "Remove", "Entfernen"),
    ("chat.add_members", "Add members", "Mitglieder hinzufügen"),
    ("chat.leave", "Leave group", "Gruppe verlassen"),
    ("chat.create", "Create", "Erstellen"),
    ("chat.choose", "Choose colleagues", "Kollegen auswählen"),
    ("chat.attach", "Attach a file", "Datei anhängen"),
    ("chat.emoji", "Emoji", "Emoji"),
    (
        "chat.files_unavailable",
        "File sharing is not available yet.",
        "Dateifreigabe ist noch nicht verfügbar.",
    ),
    (
        "chat.older",
        "Load older messages",
        "Ältere Nachrichten laden",
    ),
    ("chat.you", "You", "Sie"),
    ("chat.mentioned_you", "mentioned you", "hat Sie erwähnt"),
    ("chat.members_count", "members", "Mitglieder"),
    ("chat.close", "Close", "Schließen"),
    ("chat.muted", "Muted", "Stumm"),
    ("chat.pinned", "Pinned", "Angeheftet"),
    ("chat.new_message", "New message", "Neue Nachricht"),
    ("settings.title", "Settings", "Einstellungen"),
    ("settings.profile", "Profile", "Profil"),
    ("settings.language", "Language", "Sprache"),
    (
        "settings.language_auto",
        "Browser language",
        "Browsersprache",
    ),
    (
        "settings.notifications",
        "Notifications",
        "Benachrichtigungen",
    ),
    (
        "settings.sound",
        "Sound on new message",
        "Ton bei neuer Nachricht",
    ),
    ("settings.popups", "In-app pop-ups", "Hinweise in der App"),
    (
        "settings.desktop",
        "Desktop notifications",
        "Desktop-Benachrichtigungen",
    ),
    ("settings.password", "Change password", "Passwort ändern"),
    ("settings.saved", "Saved.", "Gespeichert."),
    ("error.back", "Back", "Zurück"),
    ("common.save", "Save", "Speichern"),
    ("common.cancel", "Cancel", "Abbrechen"),
];

fn table() -> &'static HashMap<&'static str, (&'static str, &'static str)> {
    static T: OnceLock<HashMap<&'static str, (&'static str, &'static str)>> = OnceLock::new();
    T.get_or_init(|| STRINGS.iter().map(|(k, en, de)| (*k, (*en, *de))).collect())
}

#[derive(Debug, Clone, Copy)]
pub struct I18n(pub Lang);

impl I18n {
    /// The string for `key`; the key itself when missing (visible in review, never a panic).
    pub fn s<'a>(&self, key: &'a str) -> &'a str {
        match table().get(key) {
            Some((en, de)) => match self.0 {
                Lang::En => en,
                Lang::De => de,
            },
            None => key,
        }
    }
    /// Every (key, text) whose key starts with `prefix`, for pages that hand strings to JS.
    pub fn with_prefix(&self, prefix: &str) -> Vec<(&'static str, &'static str)> {
        STRINGS
            .iter()
            .filter(|(k, _, _)| k.starts_with(prefix))
            .map(|(k, en, de)| {
                (
                    *k,
                    match self.0 {
                        Lang::En => *en,
                        Lang::De => *de,
                    },
                )
            })
            .collect()
    }
    pub fn code(&self) -> &'static str {
        match self.0 {
            Lang::En => "en",
            Lang::De => "de",
        }
    }
}

/// Picks en/de from an `Accept-Language` header by order of preference (q-values honoured).
pub fn from_accept_language(header: Option<&str>) -> Lang {
    let Some(h) = header else { return Lang::En };
    let mut best: Option<(f32, Lang)> = None;
    for part in h.split(',') {
        let mut it = part.trim().split(';');
        let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = it
            .find_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|v| v.parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        let lang = if tag.starts_with("de") {
            Lang::De
        } else if tag.starts_with("en") {
            Lang::En
        } else {
            continue;
        };
        if best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, lang));
        }
    }
    best.map(|(_, l)| l).unwrap_or(Lang::En)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_preferred() {
        assert_eq!(
            from_accept_language(Some("de-DE,de;q=0.9,en;q=0.8")),
            Lang::De
        );
        assert_eq!(
            from_accept_language(Some("fr-FR, en;q=0.5, de;q=0.4")),
            Lang::En
        );
        assert_eq!(from_accept_language(Some("fr")), Lang::En);
        assert_eq!(from_accept_language(None), Lang::En);
        assert_eq!(I18n(Lang::De).s("nav.settings"), "Einstellungen");
        assert_eq!(I18n(Lang::De).s("no.such.key"), "no.such.key");
    }
}
