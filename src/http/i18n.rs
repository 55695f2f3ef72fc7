//! English and German UI strings. The user's profile language wins, else the browser's
//! `Accept-Language`, else English.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::domain::users::Lang;

/// (key, English, German)
const STRINGS: &[(&str, &str, &str)] = &[
    ("nav.external", "External", "Extern"),
    ("nav.internal", "Internal", "Intern"),
    ("nav.settings", "Settings", "Einstellungen"),
    ("nav.admin", "Admin", "Verwaltung"),
    ("nav.contacts", "Contacts", "Kontakte"),
    ("nav.reports", "Reports", "Berichte"),
    ("nav.canned", "My canned replies", "Meine Textbausteine"),
    ("nav.logout", "Log out", "Abmelden"),
    ("nav.menu", "Menu", "Menü"),
    ("inbox.more", "More actions", "Weitere Aktionen"),
    ("chat.back", "Back to the chats", "Zurück zu den Chats"),
    ("pwa.offline_title", "Offline", "Offline"),
    (
        "pwa.offline",
        "Offline — reconnecting…",
        "Offline — Verbindung wird wiederhergestellt…",
    ),
    (
        "pwa.offline_hint",
        "This page opens again by itself as soon as the server can be reached.",
        "Diese Seite öffnet sich von selbst wieder, sobald der Server erreichbar ist.",
    ),
    ("pwa.retry", "Try again", "Erneut versuchen"),
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
    ("chat.unpin", "Unpin", "Nicht mehr anheften"),
    (
        "chat.mute",
        "Mute notifications",
        "Benachrichtigungen stummschalten",
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
    ("chat.muted", "Muted", "Stummgeschaltet"),
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
    (
        "ca.title",
        "Trust this box on your devices",
        "Dieser Box auf Ihren Geräten vertrauen",
    ),
    (
        "ca.link",
        "Trust this box's certificate on phones and computers (no more warnings; needed for the app and push notifications)",
        "Dem Zertifikat dieser Box auf Telefonen und Computern vertrauen (keine Warnungen mehr; nötig für die App und Push-Benachrichtigungen)",
    ),
    (
        "ca.intro",
        "This box makes its own certificates. Install its certificate authority once on each phone or computer, then Switchboard opens without a warning and can be installed as an app with push notifications. Scan the code with the phone or download the file.",
        "Diese Box stellt ihre Zertifikate selbst aus. Installieren Sie ihre Zertifizierungsstelle einmal auf jedem Telefon oder Computer; danach öffnet sich Switchboard ohne Warnung und lässt sich als App mit Push-Benachrichtigungen installieren. Scannen Sie den Code mit dem Telefon oder laden Sie die Datei herunter.",
    ),
    (
        "ca.qr_alt",
        "QR code of the certificate download link",
        "QR-Code des Download-Links für das Zertifikat",
    ),
    (
        "ca.download",
        "Download the CA certificate",
        "CA-Zertifikat herunterladen",
    ),
    ("ca.download_pem", "as PEM", "als PEM"),
    (
        "ca.fingerprint",
        "Compare this SHA-256 fingerprint with the one the device shows",
        "Vergleichen Sie diesen SHA-256-Fingerabdruck mit dem, den das Gerät anzeigt",
    ),
    (
        "ca.android_1",
        "Scan the code (or open the link) and download switchboard-ca.crt.",
        "Code scannen (oder Link öffnen) und switchboard-ca.crt herunterladen.",
    ),
    (
        "ca.android_2",
        "Settings → Security & privacy → More security settings → Encryption & credentials → Install a certificate → CA certificate → Install anyway, then pick the file.",
        "Einstellungen → Sicherheit & Datenschutz → Weitere Sicherheitseinstellungen → Verschlüsselung & Anmeldedaten → Zertifikat installieren → CA-Zertifikat → Trotzdem installieren, dann die Datei wählen.",
    ),
    (
        "ca.android_3",
        "Open Switchboard in Chrome over https:// and add it to the home screen.",
        "Switchboard in Chrome über https:// öffnen und zum Startbildschirm hinzufügen.",
    ),
    (
        "ca.ios_1",
        "Scan the code with the camera, open the link in Safari and allow the download (\"Profile downloaded\").",
        "Code mit der Kamera scannen, den Link in Safari öffnen und den Download erlauben („Profil geladen“).",
    ),
    (
        "ca.ios_2",
        "Settings → General → VPN & Device Management → the Switchboard profile → Install.",
        "Einstellungen → Allgemein → VPN und Geräteverwaltung → das Switchboard-Profil → Installieren.",
    ),
    (
        "ca.ios_3",
        "Settings → General → About → Certificate Trust Settings → turn on full trust for the Switchboard CA. Then open Switchboard in Safari and use Share → Add to Home Screen (push works from the home-screen app).",
        "Einstellungen → Allgemein → Info → Zertifikatsvertrauenseinstellungen → volles Vertrauen für die Switchboard-CA einschalten. Dann Switchboard in Safari öffnen und Teilen → Zum Home-Bildschirm wählen (Push funktioniert in der App vom Home-Bildschirm).",
    ),
    (
        "ca.windows_1",
        "Download switchboard-ca.crt and double-click it → Install Certificate.",
        "switchboard-ca.crt herunterladen und doppelklicken → Zertifikat installieren.",
    ),
    (
        "ca.windows_2",
        "Choose Local Machine (or Current User) → Place all certificates in the following store → Trusted Root Certification Authorities → Finish.",
        "Lokaler Computer (oder Aktueller Benutzer) → Alle Zertifikate in folgendem Speicher speichern → Vertrauenswürdige Stammzertifizierungsstellen → Fertig stellen.",
    ),
    (
        "ca.windows_3",
        "Restart the browser. Firefox keeps its own list: Settings → Privacy & Security → Certificates → View Certificates → Authorities → Import.",
        "Browser neu starten. Firefox hat eine eigene Liste: Einstellungen → Datenschutz & Sicherheit → Zertifikate → Zertifikate anzeigen → Zertifizierungsstellen → Importieren.",
    ),
    (
        "ca.macos_1",
        "Download switchboard-ca.crt and double-click it: Keychain Access adds it to the System keychain.",
        "switchboard-ca.crt herunterladen und doppelklicken: die Schlüsselbundverwaltung legt es im Schlüsselbund „System“ ab.",
    ),
    (
        "ca.macos_2",
        "Double-click the \"Switchboard local CA\" certificate → Trust → When using this certificate: Always Trust.",
        "Das Zertifikat „Switchboard local CA“ doppelklicken → Vertrauen → Bei Verwendung dieses Zertifikats: Immer vertrauen.",
    ),
    (
        "ca.macos_3",
        "Close the window and confirm with your password; restart the browser.",
        "Fenster schließen und mit Ihrem Passwort bestätigen; Browser neu starten.",
    ),
    (
        "push.title",
        "Push notifications",
        "Push-Benachrichtigungen",
    ),
    (
        "push.help",
        "Get a notification on this phone or computer, even when Switchboard is closed: new conversations in your queues, messages in your conversations, transfers to you, direct messages and mentions.",
        "Erhalten Sie auf diesem Telefon oder Computer eine Benachrichtigung, auch wenn Switchboard geschlossen ist: neue Gespräche in Ihren Warteschlangen, Nachrichten in Ihren Gesprächen, Übergaben an Sie, Direktnachrichten und Erwähnungen.",
    ),
    (
        "push.this_device",
        "Notify this device",
        "Dieses Gerät benachrichtigen",
    ),
    (
        "push.hide_content",
        "Hide message content (the notification only says that something arrived)",
        "Nachrichteninhalt verbergen (die Benachrichtigung sagt nur, dass etwas angekommen ist)",
    ),
    (
        "push.on",
        "This device receives push notifications.",
        "Dieses Gerät erhält Push-Benachrichtigungen.",
    ),
    (
        "push.off",
        "This device receives no push notifications.",
        "Dieses Gerät erhält keine Push-Benachrichtigungen.",
    ),
    (
        "push.denied",
        "The browser refused notifications. Allow them in the browser's site settings.",
        "Der Browser hat Benachrichtigungen abgelehnt. Erlauben Sie sie in den Website-Einstellungen des Browsers.",
    ),
    (
        "push.unsupported",
        "This browser cannot receive push notifications here. On a phone, open Switchboard over HTTPS (trust the box's certificate first) and add it to the home screen.",
        "Dieser Browser kann hier keine Push-Benachrichtigungen empfangen. Öffnen Sie Switchboard auf dem Telefon über HTTPS (vertrauen Sie zuerst dem Zertifikat der Box) und legen Sie es auf den Startbildschirm.",
    ),
    (
        "push.failed",
        "Push notifications could not be turned on:",
        "Push-Benachrichtigungen konnten nicht eingeschaltet werden:",
    ),
    ("push.saved", "Saved.", "Gespeichert."),
    ("settings.password", "Change password", "Passwort ändern"),
    ("settings.saved", "Saved.", "Gespeichert."),
    (
        "settings.keep_tokens",
        "Keep my API tokens (otherwise a new password revokes them)",
        "API-Tokens behalten (sonst widerruft ein neues Passwort sie)",
    ),
    ("settings.tokens", "API tokens", "API-Tokens"),
    (
        "settings.tokens_help",
        "Scripts use these tokens to act as you. Revoke one you no longer use or that may have leaked.",
        "Skripte handeln mit diesen Tokens in Ihrem Namen. Widerrufen Sie Tokens, die Sie nicht mehr nutzen oder die bekannt geworden sein könnten.",
    ),
    (
        "settings.tokens_none",
        "You have no API tokens.",
        "Sie haben keine API-Tokens.",
    ),
    ("settings.token_created", "Created", "Erstellt"),
    ("settings.token_last_used", "Last used", "Zuletzt benutzt"),
    ("settings.token_expires", "Expires", "Läuft ab"),
    ("settings.token_expired", "Expired", "Abgelaufen"),
    ("settings.token_never", "never", "nie"),
    ("settings.token_revoke", "Revoke", "Widerrufen"),
    (
        "settings.token_revoked",
        "Token revoked.",
        "Token widerrufen.",
    ),
    ("common.save", "Save", "Speichern"),
    ("common.cancel", "Cancel", "Abbrechen"),
    ("inbox.title", "External chat", "Externer Chat"),
    ("inbox.mine", "Mine", "Meine"),
    ("inbox.unassigned", "Unassigned", "Wartend"),
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
        "inbox.empty_admin",
        "Conversations arrive through the channels you connect:",
        "Gespräche kommen über die Kanäle, die Sie verbinden:",
    ),
    (
        "inbox.empty_admin_link",
        "Admin → Channels",
        "Verwaltung → Kanäle",
    ),
    (
        "inbox.empty_agent",
        "New conversations appear here when customers write.",
        "Neue Unterhaltungen erscheinen hier, sobald Kunden schreiben.",
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
    ("inbox.unarchive", "Unarchive", "Aus dem Archiv holen"),
    ("inbox.mute", "Mute", "Stummschalten"),
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
    ("inbox.reply", "Reply", "Antworten"),
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
    ("inbox.param", "Parameter", "Parameter"),
    (
        "inbox.owned_by",
        "{name} owns this conversation. You can still reply after confirming.",
        "{name} bearbeitet diese Unterhaltung. Sie können nach einer Bestätigung trotzdem antworten.",
    ),
    (
        "inbox.confirm_other",
        "{name} owns this conversation. Send your reply anyway?",
        "{name} bearbeitet diese Unterhaltung. Ihre Antwort trotzdem senden?",
    ),
    ("inbox.send_anyway", "Send anyway", "Trotzdem senden"),
    ("inbox.typing", "is typing…", "schreibt…"),
    (
        "inbox.transferred_to_you",
        "{from} transferred {name} to you",
        "{from} hat {name} an Sie weitergeleitet",
    ),
    (
        "inbox.retrying",
        "Retrying (attempt {n} failed, next at {at})",
        "Neuer Versuch (Versuch {n} fehlgeschlagen, nächster um {at})",
    ),
    (
        "inbox.to_queue",
        "Back to the queue",
        "Zurück in die Warteschlange",
    ),
    ("inbox.no_result", "No result", "Kein Ergebnis"),
    (
        "inbox.alerts_off",
        "Sound and desktop notifications are off.",
        "Ton und Desktop-Benachrichtigungen sind aus.",
    ),
    (
        "inbox.alerts_locked",
        "The browser keeps sound off until you click here.",
        "Der Browser lässt den Ton aus, bis Sie hier klicken.",
    ),
    (
        "inbox.alerts_enable",
        "Turn on alerts",
        "Hinweise einschalten",
    ),
    (
        "inbox.alerts_enabled",
        "Sound and desktop notifications are on.",
        "Ton und Desktop-Benachrichtigungen sind an.",
    ),
    (
        "inbox.param_missing",
        "Parameter {n} is missing: fill in every field.",
        "Parameter {n} fehlt: bitte jedes Feld ausfüllen.",
    ),
    (
        "inbox.param_too_long",
        "Parameter {n} is too long (at most {max} characters).",
        "Parameter {n} ist zu lang (höchstens {max} Zeichen).",
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
    ("inbox.email", "Email", "E-Mail"),
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
    ("inbox.muted", "Muted", "Stummgeschaltet"),
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
    ("tl.unarchived", "Unarchived", "Aus dem Archiv geholt"),
    ("tl.reopened", "Reopened", "Wieder geöffnet"),
    ("tl.tagged", "Tagged", "Verschlagwortet"),
    ("tl.blocked", "Contact blocked", "Kontakt gesperrt"),
    ("tl.call", "Call", "Anruf"),
    ("tl.merged", "Contacts merged", "Kontakte zusammengeführt"),
    ("tl.unblocked", "Contact unblocked", "Kontakt entsperrt"),
    (
        "tl.offline_message",
        "Message left while offline",
        "Nachricht außerhalb der Online-Zeiten",
    ),
    ("tl.other", "Other", "Sonstiges"),
    ("ch.sms", "SMS", "SMS"),
    ("ch.whatsapp", "WhatsApp", "WhatsApp"),
    ("ch.messenger", "Messenger", "Messenger"),
    ("ch.livechat", "Live Chat", "Live-Chat"),
    // Starting, organising and finding conversations (inbox list, contacts, reports).
    ("inbox.start_new", "New conversation", "Neue Unterhaltung"),
    ("inbox.reopen", "Reopen", "Wieder öffnen"),
    (
        "inbox.search",
        "Search name, number or text",
        "Name, Nummer oder Text suchen",
    ),
    ("inbox.any_status", "Any state", "Jeder Status"),
    ("inbox.tag", "Tag", "Schlagwort"),
    ("inbox.tags", "Tags", "Schlagwörter"),
    ("inbox.all_tags", "All tags", "Alle Schlagwörter"),
    ("inbox.add_tag", "Add tag", "Schlagwort hinzufügen"),
    ("inbox.remove_tag", "Remove tag", "Schlagwort entfernen"),
    ("inbox.sort", "Sort", "Sortierung"),
    ("inbox.select", "Select", "Auswählen"),
    ("inbox.selected", "{n} selected", "{n} ausgewählt"),
    (
        "inbox.bulk_archived",
        "{n} conversations archived",
        "{n} Unterhaltungen archiviert",
    ),
    (
        "inbox.bulk_closed",
        "{n} conversations ended",
        "{n} Unterhaltungen beendet",
    ),
    ("inbox.block", "Block", "Sperren"),
    ("inbox.block_reason", "Reason", "Grund"),
    ("inbox.block_spam", "Spam", "Spam"),
    (
        "inbox.block_explain",
        "Messages from {name} will be dropped from now on. An admin can lift the block.",
        "Nachrichten von {name} werden ab jetzt verworfen. Eine Verwaltung kann die Sperre aufheben.",
    ),
    (
        "inbox.blocked_done",
        "{name} is blocked",
        "{name} ist gesperrt",
    ),
    ("inbox.calling", "Calling…", "Anruf wird aufgebaut…"),
    ("chat.calling", "Calling…", "Anruf wird aufgebaut…"),
    (
        "chat.call_ringing",
        "Your phone {ext} rings; pick up to be connected.",
        "Ihr Telefon {ext} klingelt; abheben, um verbunden zu werden.",
    ),
    (
        "chat.call_failed",
        "The call failed",
        "Der Anruf ist fehlgeschlagen",
    ),
    ("contacts.title", "Contacts", "Kontakte"),
    (
        "contacts.search_placeholder",
        "Name, number or email",
        "Name, Nummer oder E-Mail",
    ),
    ("contacts.search", "Search", "Suchen"),
    ("contacts.email", "Email", "E-Mail"),
    ("contacts.conversations", "Conversations", "Unterhaltungen"),
    (
        "contacts.no_conversations",
        "No conversations you can see.",
        "Keine sichtbaren Unterhaltungen.",
    ),
    ("contacts.open", "Open", "Offen"),
    ("contacts.closed", "Closed", "Beendet"),
    ("contacts.name", "Name", "Name"),
    ("contacts.rename", "Rename", "Umbenennen"),
    (
        "contacts.merge_into",
        "Same person as",
        "Dieselbe Person wie",
    ),
    (
        "contacts.merge_choose",
        "Choose a contact…",
        "Kontakt wählen…",
    ),
    ("contacts.merge", "Merge", "Zusammenführen"),
    ("contacts.block_reason", "Reason", "Grund"),
    ("contacts.block", "Block", "Sperren"),
    ("contacts.blocked", "blocked", "gesperrt"),
    (
        "contacts.none",
        "No contacts found.",
        "Keine Kontakte gefunden.",
    ),
    ("reports.title", "Reports", "Berichte"),
    ("reports.from", "From", "Von"),
    ("reports.to", "To", "Bis"),
    ("reports.show", "Show", "Anzeigen"),
    ("reports.sessions", "Conversations", "Unterhaltungen"),
    (
        "reports.frt_median",
        "First response, median",
        "Erste Antwort, Median",
    ),
    (
        "reports.frt_p90",
        "First response, 90th percentile",
        "Erste Antwort, 90. Perzentil",
    ),
    (
        "reports.res_median",
        "Resolution, median",
        "Erledigung, Median",
    ),
    (
        "reports.res_p90",
        "Resolution, 90th percentile",
        "Erledigung, 90. Perzentil",
    ),
    ("reports.p90", "90th percentile", "90. Perzentil"),
    (
        "reports.per_day",
        "Conversations per day",
        "Unterhaltungen pro Tag",
    ),
    ("reports.channel", "Channel", "Kanal"),
    ("reports.total", "Total", "Summe"),
    ("reports.agents", "Agents", "Mitarbeitende"),
    ("reports.agent", "Agent", "Mitarbeiter/in"),
    (
        "reports.frt_chart",
        "Median first response by the agent who answered first",
        "Median der ersten Antwort, je zuerst antwortender Person",
    ),
    ("reports.results", "Results", "Ergebnisse"),
    ("reports.tags", "Tags", "Schlagwörter"),
    (
        "reports.none",
        "Nothing in this period.",
        "Nichts in diesem Zeitraum.",
    ),
    (
        "inbox.call_ringing",
        "Your phone {ext} rings; pick up to be connected.",
        "Ihr Telefon {ext} klingelt; abheben, um verbunden zu werden.",
    ),
    (
        "inbox.start_title",
        "Start a conversation",
        "Unterhaltung beginnen",
    ),
    ("inbox.start_channel", "Channel", "Kanal"),
    ("inbox.start_to", "Number or contact", "Nummer oder Kontakt"),
    ("inbox.start_name", "Name (optional)", "Name (optional)"),
    ("inbox.start_message", "Message", "Nachricht"),
    ("inbox.start_template", "Template", "Vorlage"),
    ("inbox.start_param", "Parameter", "Parameter"),
    ("inbox.start_send", "Send", "Senden"),
    (
        "inbox.start_pick_template",
        "Choose a template first.",
        "Bitte zuerst eine Vorlage wählen.",
    ),
    (
        "inbox.start_no_channel",
        "No SMS or WhatsApp channel you may use.",
        "Kein SMS- oder WhatsApp-Kanal verfügbar.",
    ),
];

/// Key prefixes whose keys are built at run time from data (`I18n::dynamic`, `t("tl." + kind)`
/// in the scripts) or handed to scripts as a whole bundle: the key test counts them as used.
#[cfg(test)]
pub const DYNAMIC_PREFIXES: &[&str] = &[
    "aud.act.",
    "tl.",
    "ch.",
    "role.",
    "err.msg.",
    "fld.",
    "pbx.kind.",
    "nf.",
    "inbox.status_",
];

/// Every string: the general catalogue and the admin pages' own (`i18n_admin.rs`).
fn all() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str)> {
    STRINGS.iter().chain(super::i18n_admin::STRINGS.iter())
}

fn table() -> &'static HashMap<&'static str, (&'static str, &'static str)> {
    static T: OnceLock<HashMap<&'static str, (&'static str, &'static str)>> = OnceLock::new();
    T.get_or_init(|| all().map(|(k, en, de)| (*k, (*en, *de))).collect())
}

/// English domain message → German, from the `err.msg.` entries.
fn messages() -> &'static HashMap<&'static str, &'static str> {
    static T: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    T.get_or_init(|| {
        all()
            .filter(|(k, _, _)| k.starts_with("err.msg."))
            .map(|(_, en, de)| (*en, *de))
            .collect()
    })
}

/// The validation phrasings with a number in them ("must be 1 to 100 characters").
fn phrase_de(en: &str) -> Option<String> {
    let num = |s: &str| s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty();
    if let Some(rest) = en.strip_prefix("must be 1 to ")
        && let Some(n) = rest.strip_suffix(" characters")
        && num(n)
    {
        return Some(format!("muss 1 bis {n} Zeichen lang sein"));
    }
    for p in ["must be at most ", "at most "] {
        if let Some(rest) = en.strip_prefix(p)
            && let Some(n) = rest.strip_suffix(" characters")
            && num(n)
        {
            return Some(format!("darf höchstens {n} Zeichen lang sein"));
        }
    }
    None
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
    /// The string for `prefix` + `name` (a key built from data: an audit action, a role), or
    /// `name` itself when the catalogue has none. Prefixes used this way are listed in
    /// [`DYNAMIC_PREFIXES`] so the key test knows these keys are used.
    pub fn dynamic<'a>(&self, prefix: &str, name: &'a str) -> &'a str {
        let key = format!("{prefix}{name}");
        match table().get(key.as_str()) {
            Some((en, de)) => match self.0 {
                Lang::En => en,
                Lang::De => de,
            },
            None => name,
        }
    }
    /// A message the domain produced (in English) in this language: an exact entry under
    /// `err.msg.` (whose English text is the domain's text), else a few common validation
    /// phrasings, else the English text unchanged.
    pub fn message(&self, english: &str) -> String {
        if self.0 == Lang::En {
            return english.to_string();
        }
        if let Some(de) = messages().get(english) {
            return (*de).to_string();
        }
        phrase_de(english).unwrap_or_else(|| english.to_string())
    }

    /// What the user is shown for `e`, in this language (`Error::public_message` in English).
    pub fn error(&self, e: &crate::error::Error) -> String {
        use crate::error::Error;
        if self.0 == Lang::En {
            return e.public_message();
        }
        match e {
            Error::Invalid { field, message } => {
                format!("{}: {}", self.dynamic("fld.", field), self.message(message))
            }
            Error::NotFound(what) => {
                format!("{}: {}", self.s("err.not_found"), self.dynamic("nf.", what))
            }
            Error::RateLimited { retry_after_secs } => self
                .s("err.rate_limited")
                .replace("{n}", &retry_after_secs.to_string()),
            Error::Internal(_) | Error::Storage(_) => self.s("err.internal_logged").to_string(),
            other => self.message(&other.public_message()),
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

/// Every (key, English, German), for the key test (`i18n_check.rs`).
#[cfg(test)]
pub(crate) fn all_strings()
-> impl Iterator<Item = &'static (&'static str, &'static str, &'static str)> {
    all()
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

    #[test]
    fn every_key_is_defined_once() {
        let mut seen = std::collections::HashSet::new();
        for (k, _, _) in all() {
            assert!(
                seen.insert(k),
                "{k} is defined twice: the later one silently wins"
            );
        }
    }

    #[test]
    fn every_timeline_kind_has_a_label_in_both_languages() {
        use crate::domain::sessions::TimelineKind;
        for k in TimelineKind::ALL {
            let key = format!("tl.{}", k.as_str());
            for lang in [Lang::En, Lang::De] {
                assert_ne!(I18n(lang).s(&key), key, "{key} has no {lang:?} label");
            }
        }
    }
}
