//! A real SMTP server on loopback for the mailer's tests: it speaks enough
//! ESMTP for lettre (EHLO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT),
//! records what it accepts, and can be told how to answer (a 550 or 451 to
//! RCPT, a 535 to AUTH, or silence).

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How the sink answers.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// Reply to every RCPT instead of `250` (e.g. `550 5.1.1 no such user`).
    pub rcpt_reply: Option<String>,
    /// Offer AUTH PLAIN and answer it with this (e.g. `535 5.7.8 bad credentials`);
    /// `None` with `offer_auth` answers `235`.
    pub auth_reply: Option<String>,
    /// Offer AUTH PLAIN LOGIN in the EHLO answer.
    pub offer_auth: bool,
    /// Accept connections but never say anything.
    pub silent: bool,
}

/// What one SMTP transaction delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message as sent, dot-unstuffed, lines joined with CRLF.
    pub data: Vec<u8>,
}

#[derive(Debug, Default)]
struct Log {
    messages: Vec<Received>,
    /// Decoded AUTH PLAIN: (user, password).
    logins: Vec<(String, String)>,
}

/// A running sink; it stops with the test's runtime.
#[derive(Clone)]
pub struct Sink {
    pub port: u16,
    log: Arc<Mutex<Log>>,
}

impl Sink {
    pub async fn start(behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Log::default()));
        let shared = Arc::clone(&log);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let log = Arc::clone(&shared);
                let behaviour = behaviour.clone();
                tokio::spawn(async move {
                    if behaviour.silent {
                        // Hold the connection open, say nothing.
                        let _keep = stream;
                        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                    } else {
                        let _ = session(stream, &behaviour, &log).await;
                    }
                });
            }
        });
        Self { port, log }
    }

    pub fn messages(&self) -> Vec<Received> {
        self.log.lock().unwrap().messages.clone()
    }

    pub fn logins(&self) -> Vec<(String, String)> {
        self.log.lock().unwrap().logins.clone()
    }
}

async fn session(stream: TcpStream, b: &Behaviour, log: &Mutex<Log>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write
        .write_all(b"220 sink.localhost ESMTP test sink\r\n")
        .await?;
    let mut mail_from = String::new();
    let mut rcpt_to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            let auth = if b.offer_auth {
                "250-AUTH PLAIN LOGIN\r\n"
            } else {
                ""
            };
            format!("250-sink.localhost\r\n{auth}250-8BITMIME\r\n250 SIZE 20971520")
        } else if let Some(initial) = upper.strip_prefix("AUTH PLAIN") {
            let encoded = if initial.trim().is_empty() {
                write.write_all(b"334 \r\n").await?;
                line.clear();
                lines.read_line(&mut line).await?;
                line.trim().to_owned()
            } else {
                command["AUTH PLAIN".len()..].trim().to_owned()
            };
            let decoded = decode_base64(&encoded);
            let parts: Vec<&[u8]> = decoded.split(|&c| c == 0).collect();
            if let [_, user, password] = parts.as_slice() {
                log.lock().unwrap().logins.push((
                    String::from_utf8_lossy(user).into_owned(),
                    String::from_utf8_lossy(password).into_owned(),
                ));
            }
            b.auth_reply
                .clone()
                .unwrap_or_else(|| "235 2.7.0 accepted".to_owned())
        } else if upper.starts_with("MAIL FROM:") {
            mail_from = address(&command);
            rcpt_to.clear();
            "250 2.1.0 ok".to_owned()
        } else if upper.starts_with("RCPT TO:") {
            match &b.rcpt_reply {
                Some(reply) => reply.clone(),
                None => {
                    rcpt_to.push(address(&command));
                    "250 2.1.5 ok".to_owned()
                }
            }
        } else if upper == "DATA" {
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = Vec::new();
            loop {
                let mut raw = Vec::new();
                if lines.read_until(b'\n', &mut raw).await? == 0 {
                    return Ok(());
                }
                if raw == b".\r\n" || raw == b".\n" {
                    break;
                }
                let unstuffed = raw.strip_prefix(b".").unwrap_or(&raw);
                data.extend_from_slice(unstuffed);
            }
            log.lock().unwrap().messages.push(Received {
                mail_from: mail_from.clone(),
                rcpt_to: std::mem::take(&mut rcpt_to),
                data,
            });
            "250 2.0.0 queued".to_owned()
        } else if upper == "RSET" || upper == "NOOP" {
            "250 2.0.0 ok".to_owned()
        } else if upper == "QUIT" {
            write.write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(());
        } else {
            "502 5.5.2 command not recognised".to_owned()
        };
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}

/// `x@y` from `MAIL FROM:<x@y> SIZE=…`.
fn address(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(addr, _)| addr.to_owned())
        .unwrap_or_default()
}

fn decode_base64(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in s.bytes().filter(|&c| c != b'=') {
        let Some(value) = ALPHABET.iter().position(|&a| a == c) else {
            continue;
        };
        buffer = (buffer << 6) | value as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    out
}
