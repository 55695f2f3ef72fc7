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
    ("inbox.title", "External chat", "Externer Chat"),
    ("inbox.mine", "Mine", "Meine"),
    ("inbox.unassigned", "Unassigned", "Offen"),
    ("inbox.all", "All", "Alle"),
    ("inbox.archived", "Archived", "Archiv"),
    ("inbox.all_channels", "All channels", "Alle Kanäle"),
    ("inbox.sort_activity", "Last activity", "Letzte Aktivität"),
    ("inbox.sort_arrival", "Arrival", "Eingang"),
    (
        "inbox.empty_list",
        "No conversations here.",
        "Keine Unterhaltungen.",
    ),
    (
        "inbox.pick_one",
        "Select a conversation on the left.",
        "Wählen Sie links eine Unterhaltung.",
    ),
    ("inbox.load_more", "Load more", "Mehr laden"),
    ("inbox.back", "Back", "Zurück"),
    ("inbox.pickup", "Pick up", "Übernehmen"),
    ("inbox.transfer", "Transfer", "Weiterleiten"),
    ("inbox.note", "Note", "Notiz"),
    ("inbox.end", "End chat", "Chat beenden"),
    ("inbox.archive", "Archive", "Archivieren"),
    ("inbox.unarchive", "Unarchive", "Wiederherstellen"),
    ("inbox.mute", "Mute", "Stumm"),
    ("inbox.unmute", "Unmute", "Ton an"),
    ("inbox.call", "Call", "Anrufen"),
    ("inbox.details", "Details", "Details"),
    ("inbox.nobody", "Unassigned", "Nicht zugewiesen"),
    ("inbox.owner", "Owner", "Bearbeiter"),
    ("inbox.closed", "Closed", "Beendet"),
    ("inbox.open", "Open", "Offen"),
    ("inbox.today", "Today", "Heute"),
    ("inbox.yesterday", "Yesterday", "Gestern"),
    ("inbox.now", "now", "jetzt"),
    ("inbox.min", "min", "Min."),
    ("inbox.internal_note", "Internal note", "Interne Notiz"),
    ("inbox.reply", "Reply", "Antwort"),
    ("inbox.placeholder", "Type a message", "Nachricht schreiben"),
    (
        "inbox.note_placeholder",
        "Internal note, visible to colleagues only",
        "Interne Notiz, nur für Kollegen sichtbar",
    ),
    ("inbox.send", "Send", "Senden"),
    ("inbox.attach", "Attach a file", "Datei anhängen"),
    ("inbox.camera", "Take a photo", "Foto aufnehmen"),
    ("inbox.emoji", "Emoji", "Emoji"),
    (
        "inbox.drop",
        "Drop files to attach",
        "Dateien zum Anhängen hier ablegen",
    ),
    ("inbox.retry", "Retry", "Erneut senden"),
    ("inbox.failed", "Not delivered", "Nicht zugestellt"),
    ("inbox.status_queued", "Queued", "Wartet"),
    (
        "inbox.status_unknown",
        "Outcome unknown",
        "Ergebnis unbekannt",
    ),
    ("inbox.status_sent", "Sent", "Gesendet"),
    ("inbox.status_delivered", "Delivered", "Zugestellt"),
    ("inbox.status_read", "Read", "Gelesen"),
    ("inbox.file_expired", "File expired", "Datei abgelaufen"),
    (
        "inbox.file_pending",
        "Fetching file…",
        "Datei wird geladen…",
    ),
    (
        "inbox.file_failed",
        "File unavailable",
        "Datei nicht verfügbar",
    ),
    (
        "inbox.window_human",
        "More than 24 hours since the customer's last message: your reply is sent with Messenger's HUMAN_AGENT tag (allowed for 7 days).",
        "Mehr als 24 Stunden seit der letzten Kundennachricht: Ihre Antwort wird mit dem HUMAN_AGENT-Tag von Messenger gesendet (7 Tage erlaubt).",
    ),
    ("inbox.templates", "Templates", "Vorlagen"),
    (
        "inbox.no_templates",
        "No approved templates are available yet. An administrator can add WhatsApp templates.",
        "Noch keine freigegebenen Vorlagen. Ein Administrator kann WhatsApp-Vorlagen anlegen.",
    ),
    ("inbox.template_send", "Send template", "Vorlage senden"),
    (
        "inbox.choose_template",
        "Choose a template",
        "Vorlage wählen",
    ),
    ("inbox.transfer_to", "Transfer to", "Weiterleiten an"),
    (
        "inbox.transfer_note",
        "Note for your colleague (optional)",
        "Notiz für die Kollegin / den Kollegen (optional)",
    ),
    ("inbox.result", "Result (optional)", "Ergebnis (optional)"),
    ("inbox.close_note", "Note (optional)", "Notiz (optional)"),
    ("inbox.customer", "Customer", "Kunde"),
    ("inbox.name", "Name", "Name"),
    ("inbox.number", "Number", "Nummer"),
    ("inbox.channel", "Channel", "Kanal"),
    (
        "inbox.business_number",
        "Business number",
        "Geschäftsnummer",
    ),
    ("inbox.arrived", "Arrived", "Eingegangen"),
    ("inbox.session", "Conversation", "Unterhaltung"),
    (
        "inbox.previous",
        "Previous conversations",
        "Frühere Unterhaltungen",
    ),
    ("inbox.timeline", "Timeline", "Verlauf"),
    ("inbox.none", "None", "Keine"),
    ("inbox.new_message", "New message", "Neue Nachricht"),
    (
        "inbox.new_session",
        "New customer waiting",
        "Neuer Kunde wartet",
    ),
    ("inbox.you", "You", "Sie"),
    ("inbox.status", "Status", "Status"),
    ("inbox.uploading", "Uploading", "Wird hochgeladen"),
    ("inbox.blocked", "Blocked", "Gesperrt"),
    ("inbox.muted", "Muted", "Stumm"),
    (
        "inbox.reconnecting",
        "reconnecting…",
        "Verbindung wird wiederhergestellt…",
    ),
    (
        "inbox.error",
        "Something went wrong",
        "Etwas ist schiefgegangen",
    ),
    ("inbox.remove", "Remove", "Entfernen"),
    ("inbox.close", "Close", "Schließen"),
    (
        "inbox.desktop_denied",
        "The browser refused desktop notifications. Allow them in the browser's site settings.",
        "Der Browser hat Desktop-Benachrichtigungen abgelehnt. Erlauben Sie sie in den Website-Einstellungen des Browsers.",
    ),
    (
        "inbox.not_available",
        "This action is not available on this server yet.",
        "Diese Aktion ist auf diesem Server noch nicht verfügbar.",
    ),
    (
        "inbox.earlier",
        "Load earlier messages",
        "Ältere Nachrichten laden",
    ),
    ("inbox.customer_label", "Customer", "Kunde"),
    ("tl.opened", "Conversation opened", "Unterhaltung eröffnet"),
    ("tl.started", "Started by", "Begonnen von"),
    ("tl.picked_up", "Picked up", "Übernommen"),
    ("tl.assigned", "Assigned", "Zugewiesen"),
    ("tl.transferred", "Transferred", "Weitergeleitet"),
    ("tl.note", "Note added", "Notiz hinzugefügt"),
    ("tl.closed", "Chat ended", "Chat beendet"),
    (
        "tl.closed_inactive",
        "Closed after inactivity",
        "Wegen Inaktivität beendet",
    ),
    ("tl.archived", "Archived", "Archiviert"),
    ("tl.unarchived", "Unarchived", "Wiederhergestellt"),
    ("tl.blocked", "Contact blocked", "Kontakt gesperrt"),
    ("tl.call", "Call", "Anruf"),
    ("ch.sms", "SMS", "SMS"),
    ("ch.whatsapp", "WhatsApp", "WhatsApp"),
    ("ch.messenger", "Messenger", "Messenger"),
    ("ch.livechat", "Live Chat", "Live-Chat"),
];

/// Every string: the general catalogue and the admin pages' own (`i18n_admin.rs`).
fn all() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str)> {
    STRINGS.iter().chain(super::i18n_admin::STRINGS.iter())
}

fn table() -> &'static HashMap<&'static str, (&'static str, &'static str)> {
    static T: OnceLock<HashMap<&'static str, (&'static str, &'static str)>> = OnceLock::new();
    T.get_or_init(|| all().map(|(k, en, de)| (*k, (*en, *de))).collect())
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
    /// Every string whose key starts with one of `prefixes`, as a JSON object for `static/*.js`
    /// (rendered into a data attribute, so askama's escaping applies).
    pub fn bundle(&self, prefixes: &[&str]) -> String {
        let map: serde_json::Map<String, serde_json::Value> = all()
            .filter(|(k, _, _)| prefixes.iter().any(|p| k.starts_with(p)))
            .map(|(k, en, de)| {
                let v = match self.0 {
                    Lang::En => en,
                    Lang::De => de,
                };
                ((*k).to_string(), serde_json::Value::from(*v))
            })
            .collect();
        serde_json::Value::Object(map).to_string()
    }

    /// Every (key, text) whose key starts with `prefix`, for pages that hand strings to JS.
    pub fn with_prefix(&self, prefix: &str) -> Vec<(&'static str, &'static str)> {
        all()
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
