//! Where SMS codes go: a [`Sender`] is the service's SMS gateway. The
//! default logs that a code or notice was sent, never the code; the
//! outbox writes each message to a file, as a gateway stand-in for tests
//! and demos.

use std::{fs::OpenOptions, io::Write, path::PathBuf, sync::Mutex};

use zeroize::Zeroizing;

/// Sends a one-time code to a phone.
pub trait Sender: Send + Sync {
    /// Sends `code` to `phone`.
    ///
    /// # Errors
    /// The gateway refused or could not be reached; the login answers that
    /// no code was sent.
    fn send(&self, phone: &str, code: &str) -> Result<(), String>;

    /// Sends `phone` a notice about their account (a factor added or
    /// removed, a recovery code used, a lock): plain words, no secret.
    ///
    /// # Errors
    /// The gateway refused or could not be reached.
    fn notify(&self, phone: &str, text: &str) -> Result<(), String>;
}

/// A phone number's last two digits: all a log says of it.
fn tail(phone: &str) -> String {
    let mut last: Vec<char> = phone.chars().rev().take(2).collect();
    last.reverse();
    last.into_iter().collect()
}

/// Logs each send (the phone's last two digits), never the code: the
/// default, so that a service started without a gateway leaks nothing.
#[derive(Debug, Default)]
pub struct LogSender;

impl Sender for LogSender {
    fn send(&self, phone: &str, _code: &str) -> Result<(), String> {
        tracing::warn!(
            phone_ending = %tail(phone),
            "sms: a code was sent (no gateway configured: nobody received it)"
        );
        Ok(())
    }

    fn notify(&self, phone: &str, _text: &str) -> Result<(), String> {
        tracing::warn!(
            phone_ending = %tail(phone),
            "sms: a notice was sent (no gateway configured: nobody received it)"
        );
        Ok(())
    }
}

/// Appends `PHONE CODE` lines (and `PHONE NOTICE TEXT` lines) to a file:
/// the gateway's outbox, for tests and demos on one machine. Keep the file where only the operator reads it.
#[derive(Debug)]
pub struct OutboxSender {
    path: PathBuf,
    lock: Mutex<()>,
}

impl OutboxSender {
    /// An outbox at `path` (created on the first send).
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            lock: Mutex::new(()),
        }
    }

    /// Appends `line` to the outbox.
    fn append(&self, line: &str) -> Result<(), String> {
        let _one_at_a_time = self.lock.lock().map_err(|_| "outbox lock poisoned")?;
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options
            .open(&self.path)
            .and_then(|mut file| file.write_all(line.as_bytes()))
            .map_err(|e| format!("outbox {}: {e}", self.path.display()))
    }
}

impl Sender for OutboxSender {
    fn send(&self, phone: &str, code: &str) -> Result<(), String> {
        self.append(&Zeroizing::new(format!("{phone} {code}\n")))
    }

    /// `PHONE NOTICE TEXT` lines, the text on one line.
    fn notify(&self, phone: &str, text: &str) -> Result<(), String> {
        let text = text.replace(['\n', '\r'], " ");
        self.append(&format!("{phone} NOTICE {text}\n"))
    }
}
