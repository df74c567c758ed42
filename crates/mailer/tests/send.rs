//! The mailer against a real SMTP server on loopback (the sink in `common`),
//! with what arrives parsed by an independent MIME parser (mail-parser).

mod common;

use chrono::NaiveDate;
use common::{Behaviour, Sink};
use mail_parser::{MessageParser, MimeHeaders};
use uketsuke_export::{ListLayout, XLSX_MIME, list_xlsx};
use uketsuke_mailer::{
    Attachment, Mailer, OutgoingMessage, Security, SendError, SmtpSettings, build_message,
};

const FILE_NAME: &str = "新規指定医療機関一覧表_令和6年7月1日.xlsx";
const SUBJECT: &str =
    "【新規指定医療機関一覧表】第123回 鳥取県地方社会保険医療協議会 答申分（令和6年7月1日指定）";
const BODY: &str = "医療保険情報提供等実施機関 御中\n\n\
令和6年6月20日に開催された地方社会保険医療協議会において答申がありましたので、\
新規指定医療機関一覧表（3件）を送付します。\n\n中国四国厚生局\n";

fn xlsx() -> Vec<u8> {
    let as_of = NaiveDate::from_ymd_opt(2024, 7, 1).unwrap();
    list_xlsx(&ListLayout::default(), as_of, Some("第123回"), &[]).unwrap()
}

fn message(id: u32) -> OutgoingMessage {
    OutgoingMessage {
        message_id: format!("<outbox-{id}@uketsuke.localhost>"),
        to: vec![
            "jisshi-kikan@example.jp".to_owned(),
            "担当者 <staff@example.jp>".to_owned(),
        ],
        subject: SUBJECT.to_owned(),
        body: BODY.to_owned(),
        attachment: Some(Attachment {
            name: FILE_NAME.to_owned(),
            mime: XLSX_MIME.to_owned(),
            bytes: xlsx(),
        }),
    }
}

fn settings(port: u16) -> SmtpSettings {
    SmtpSettings {
        port,
        from: "受付番号管理システム <uketsuke@uketsuke.localhost>".to_owned(),
        timeout_secs: 5,
        ..SmtpSettings::default()
    }
}

/// A port nothing listens on: bound, then released.
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn a_japanese_message_with_the_xlsx_arrives_intact_with_its_message_id() {
    let sink = Sink::start(Behaviour::default()).await;
    let mailer = Mailer::new(&settings(sink.port)).unwrap();
    let sent = message(42);
    mailer.send(&sent).await.unwrap();

    let received = sink.messages();
    assert_eq!(received.len(), 1);
    let envelope = &received[0];
    assert_eq!(envelope.mail_from, "uketsuke@uketsuke.localhost");
    assert_eq!(
        envelope.rcpt_to,
        ["jisshi-kikan@example.jp", "staff@example.jp"]
    );

    let raw = String::from_utf8(envelope.data.clone()).unwrap();
    assert!(raw.is_ascii(), "7-bit clean on the wire");
    assert!(
        raw.contains("filename*0*=utf-8''%E6%96%B0%E8%A6%8F"),
        "RFC 2231 file name:\n{raw}"
    );

    let parsed = MessageParser::default().parse(&envelope.data).unwrap();
    assert_eq!(parsed.message_id(), Some("outbox-42@uketsuke.localhost"));
    assert_eq!(parsed.subject(), Some(SUBJECT));
    assert!(parsed.date().is_some(), "a Date header");
    let from = parsed.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("受付番号管理システム"));
    assert_eq!(from.address(), Some("uketsuke@uketsuke.localhost"));
    assert_eq!(parsed.body_text(0).unwrap().replace("\r\n", "\n"), BODY);

    let attachments: Vec<_> = parsed.attachments().collect();
    assert_eq!(attachments.len(), 1);
    let file = attachments[0];
    assert_eq!(file.attachment_name(), Some(FILE_NAME));
    let content_type = file.content_type().unwrap();
    assert_eq!(
        format!(
            "{}/{}",
            content_type.ctype(),
            content_type.subtype().unwrap()
        ),
        XLSX_MIME
    );
    assert_eq!(
        file.contents(),
        sent.attachment.unwrap().bytes.as_slice(),
        "byte for byte"
    );
}

#[tokio::test]
async fn one_mailer_sends_message_after_message() {
    let sink = Sink::start(Behaviour::default()).await;
    let mailer = Mailer::new(&settings(sink.port)).unwrap();
    for id in 1..=3 {
        mailer.send(&message(id)).await.unwrap();
    }
    let ids: Vec<String> = sink
        .messages()
        .iter()
        .map(|m| {
            MessageParser::default()
                .parse(&m.data)
                .and_then(|p| p.message_id().map(str::to_owned))
                .unwrap()
        })
        .collect();
    assert_eq!(
        ids,
        [
            "outbox-1@uketsuke.localhost",
            "outbox-2@uketsuke.localhost",
            "outbox-3@uketsuke.localhost"
        ]
    );
}

#[tokio::test]
async fn a_refused_connection_is_transient() {
    let port = closed_port().await;
    let mailer = Mailer::new(&settings(port)).unwrap();
    let err = mailer.send(&message(1)).await.unwrap_err();
    assert!(matches!(err, SendError::Connection { .. }), "{err:?}");
    assert!(!err.is_permanent());
    assert!(
        err.to_string().starts_with(&format!(
            "SMTP サーバー 127.0.0.1:{port} に接続できませんでした（後で再送します）"
        )),
        "{err}"
    );
}

#[tokio::test]
async fn a_550_to_a_recipient_is_permanent_and_nothing_is_delivered() {
    let sink = Sink::start(Behaviour {
        rcpt_reply: Some(
            "550 5.1.1 <jisshi-kikan@example.jp>: Recipient address rejected".to_owned(),
        ),
        ..Behaviour::default()
    })
    .await;
    let mailer = Mailer::new(&settings(sink.port)).unwrap();
    let err = mailer.send(&message(1)).await.unwrap_err();
    assert!(err.is_permanent(), "{err:?}");
    assert_eq!(err.smtp_code(), Some(550));
    let text = err.to_string();
    assert!(text.contains("（550・再送しても届きません）"), "{text}");
    assert!(
        text.contains("Recipient address rejected"),
        "the server's words: {text}"
    );
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn a_451_to_a_recipient_is_transient() {
    let sink = Sink::start(Behaviour {
        rcpt_reply: Some("451 4.3.0 Temporary lookup failure".to_owned()),
        ..Behaviour::default()
    })
    .await;
    let mailer = Mailer::new(&settings(sink.port)).unwrap();
    let err = mailer.send(&message(1)).await.unwrap_err();
    assert!(
        matches!(err, SendError::Deferred { code: 451, .. }),
        "{err:?}"
    );
    assert!(!err.is_permanent());
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_transiently() {
    let sink = Sink::start(Behaviour {
        silent: true,
        ..Behaviour::default()
    })
    .await;
    let mailer = Mailer::new(&SmtpSettings {
        timeout_secs: 1,
        ..settings(sink.port)
    })
    .unwrap();
    let started = std::time::Instant::now();
    let err = mailer.send(&message(1)).await.unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(matches!(err, SendError::Timeout { secs: 1, .. }), "{err:?}");
    assert!(!err.is_permanent());
    assert_eq!(
        err.to_string(),
        format!(
            "SMTP サーバー 127.0.0.1:{} とのやり取りが1秒以内に終わりませんでした（後で再送します）。",
            sink.port
        )
    );
}

#[tokio::test]
async fn the_password_comes_from_the_named_variable_and_a_535_is_transient() {
    let sink = Sink::start(Behaviour {
        offer_auth: true,
        auth_reply: Some("535 5.7.8 Authentication credentials invalid".to_owned()),
        ..Behaviour::default()
    })
    .await;
    // PATH stands in for the password variable: it is always set, and tests
    // may not set variables (that is `unsafe` in edition 2024).
    let mailer = Mailer::new(&SmtpSettings {
        username: Some("uketsuke".to_owned()),
        password_env: Some("PATH".to_owned()),
        ..settings(sink.port)
    })
    .unwrap();
    let err = mailer.send(&message(1)).await.unwrap_err();
    assert!(
        matches!(err, SendError::Authentication { code: 535, .. }),
        "{err:?}"
    );
    assert!(
        !err.is_permanent(),
        "a configuration fault: retried once fixed"
    );
    assert_eq!(
        sink.logins(),
        [("uketsuke".to_owned(), std::env::var("PATH").unwrap())]
    );
}

#[tokio::test]
async fn accepted_credentials_send_the_message() {
    let sink = Sink::start(Behaviour {
        offer_auth: true,
        ..Behaviour::default()
    })
    .await;
    let mailer = Mailer::new(&SmtpSettings {
        username: Some("uketsuke".to_owned()),
        password_env: Some("PATH".to_owned()),
        ..settings(sink.port)
    })
    .unwrap();
    mailer.send(&message(7)).await.unwrap();
    assert_eq!(sink.logins().len(), 1);
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn implicit_tls_against_a_plain_server_is_a_transient_tls_error() {
    let sink = Sink::start(Behaviour::default()).await;
    let mailer = Mailer::new(&SmtpSettings {
        security: Security::Tls,
        ..settings(sink.port)
    })
    .unwrap();
    let err = mailer.send(&message(1)).await.unwrap_err();
    assert!(
        matches!(err, SendError::Tls { .. } | SendError::Connection { .. }),
        "{err:?}"
    );
    assert!(!err.is_permanent());
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn a_malformed_recipient_is_permanent_without_connecting() {
    let port = closed_port().await;
    let mailer = Mailer::new(&settings(port)).unwrap();
    let mut bad = message(1);
    bad.to = vec!["jisshi-kikan@@example.jp".to_owned()];
    let err = mailer.send(&bad).await.unwrap_err();
    assert!(err.is_permanent(), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("メールを作成できません: 宛先のメールアドレス「jisshi-kikan@@example.jp」が正しくありません"),
        "{err}"
    );
}

#[tokio::test]
async fn check_connection_reaches_a_live_server_and_not_a_dead_one() {
    let sink = Sink::start(Behaviour::default()).await;
    Mailer::new(&settings(sink.port))
        .unwrap()
        .check_connection()
        .await
        .unwrap();
    let dead = Mailer::new(&settings(closed_port().await)).unwrap();
    assert!(!dead.check_connection().await.unwrap_err().is_permanent());
}

#[test]
fn build_message_without_attachment_is_plain_utf8_text() {
    let msg = OutgoingMessage {
        attachment: None,
        ..message(5)
    };
    let built = build_message("uketsuke@uketsuke.localhost", &msg).unwrap();
    let raw = built.formatted();
    let text = String::from_utf8(raw.clone()).unwrap();
    assert!(
        text.contains("Content-Type: text/plain; charset=utf-8"),
        "{text}"
    );
    assert!(!text.contains("multipart"), "{text}");
    let parsed = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(parsed.subject(), Some(SUBJECT));
    assert_eq!(parsed.attachments().count(), 0);
}

#[test]
fn build_message_refuses_no_recipients_a_bad_mime_type_and_a_bad_message_id() {
    let from = "uketsuke@uketsuke.localhost";
    let none = OutgoingMessage {
        to: vec![],
        ..message(1)
    };
    assert_eq!(
        build_message(from, &none).unwrap_err().to_string(),
        "宛先が1つもありません。"
    );

    let mut bad_mime = message(1);
    if let Some(a) = bad_mime.attachment.as_mut() {
        a.mime = "spreadsheet".to_owned();
    }
    assert!(
        build_message(from, &bad_mime)
            .unwrap_err()
            .to_string()
            .starts_with("添付ファイルの種類「spreadsheet」が正しくありません")
    );

    let bad_id = OutgoingMessage {
        message_id: "outbox 42".to_owned(),
        ..message(1)
    };
    assert!(matches!(
        build_message(from, &bad_id),
        Err(uketsuke_mailer::Error::MessageId(_))
    ));
}
