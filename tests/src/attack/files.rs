//! Hostile files, through the upload page and `uketsuke import`: a zip bomb, XXE and an
//! entity bomb, an encrypted workbook, a corrupt one, things that are not workbooks at
//! all; one huge cell in a workbook within every size limit (four at once, with the
//! server's memory watched); a body over the upload limit; `import /dev/zero`.

use std::io::{Cursor, Write};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};
use uketsuke_store::entities::reception_request;

use super::target::memory_kib;
use super::{Ctx, Tally};

/// How much one hostile file may raise a process's memory (the files are at most a few
/// MB; reading one must not cost hundreds).
const MEMORY_BOUND_MB: u64 = 256;

/// Percent-encodes every byte but ASCII letters and digits.
pub fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The example 別紙1 of the ingest tests.
fn example_form() -> Vec<u8> {
    include_bytes!("../../../crates/ingest/tests/data/form_official.xlsx").to_vec()
}

/// The example form written into the run's folder.
pub fn form_path(ctx: &Ctx) -> anyhow::Result<std::path::PathBuf> {
    let path = ctx.bin.dir.join("form_official.xlsx");
    std::fs::write(&path, example_form())?;
    Ok(path)
}

fn zip(entries: &[(&str, Vec<u8>)], method: zip::CompressionMethod) -> anyhow::Result<Vec<u8>> {
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(method)
        .large_file(entries.iter().any(|(_, d)| d.len() > u32::MAX as usize / 2));
    for (name, data) in entries {
        out.start_file(*name, options)?;
        out.write_all(data)?;
    }
    Ok(out.finish()?.into_inner())
}

/// A minimal workbook around one sheet's XML (and an optional workbook.xml).
fn xlsx(sheet: &str, workbook: Option<&str>) -> anyhow::Result<Vec<u8>> {
    let types = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
    let rels = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    let wb_default = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="別紙1" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
    let wb_rels = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;
    zip(
        &[
            ("[Content_Types].xml", types.as_bytes().to_vec()),
            ("_rels/.rels", rels.as_bytes().to_vec()),
            (
                "xl/workbook.xml",
                workbook.unwrap_or(wb_default).as_bytes().to_vec(),
            ),
            ("xl/_rels/workbook.xml.rels", wb_rels.as_bytes().to_vec()),
            ("xl/worksheets/sheet1.xml", sheet.as_bytes().to_vec()),
        ],
        zip::CompressionMethod::Deflated,
    )
}

fn sheet_xml(prolog: &str, cells: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>{prolog}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">{cells}</row></sheetData></worksheet>"#
    )
}

/// A workbook within every limit whose one cell holds `chars` characters that do not
/// compress (so the zip-bomb check does not catch it first).
pub fn huge_cell(chars: usize) -> anyhow::Result<Vec<u8>> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let text: String = (0..chars)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            alphabet[(state % alphabet.len() as u64) as usize] as char
        })
        .collect();
    xlsx(
        &sheet_xml(
            "",
            &format!(r#"<c r="A1" t="inlineStr"><is><t>{text}</t></is></c>"#),
        ),
        None,
    )
}

/// An encrypted (password-protected) .xlsx: an OLE compound file with the streams
/// Office writes.
fn encrypted() -> anyhow::Result<Vec<u8>> {
    let mut comp = cfb::CompoundFile::create(Cursor::new(Vec::new()))?;
    for (name, data) in [
        ("/EncryptionInfo", vec![4u8, 0, 4, 0, 0x40, 0, 0, 0]),
        ("/EncryptedPackage", vec![0u8; 4096]),
    ] {
        let mut s = comp.create_stream(name)?;
        s.write_all(&data)?;
    }
    comp.flush()?;
    Ok(comp.into_inner().into_inner())
}

/// The hostile files: (name, what it is, bytes).
pub fn hostile_files() -> anyhow::Result<Vec<(String, &'static str, Vec<u8>)>> {
    let mut files = Vec::new();
    // A zip bomb: the form plus 64 MB of zeros, a few hundred KB compressed.
    let mut entries: Vec<(String, Vec<u8>)> = {
        let mut archive = zip::ZipArchive::new(Cursor::new(example_form()))?;
        let mut v = Vec::new();
        for i in 0..archive.len() {
            let mut f = archive.by_index(i)?;
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut f, &mut data)?;
            v.push((f.name().unwrap_or_default().into_owned(), data));
        }
        v
    };
    entries.push(("xl/media/padding.bin".into(), vec![0u8; 64 * 1024 * 1024]));
    let refs: Vec<(&str, Vec<u8>)> = entries
        .iter()
        .map(|(n, d)| (n.as_str(), d.clone()))
        .collect();
    files.push((
        "bomb.xlsx".into(),
        "zip bomb",
        zip(&refs, zip::CompressionMethod::Deflated)?,
    ));
    // The sheet itself inflates to 64 MB.
    let filler = "<c r=\"B1\" t=\"inlineStr\"><is><t>x</t></is></c>";
    let big_sheet = sheet_xml("", &format!("{filler}{}", " ".repeat(64 * 1024 * 1024)));
    files.push((
        "bomb-sheet.xlsx".into(),
        "zip bomb in the sheet",
        xlsx(&big_sheet, None)?,
    ));
    drop(big_sheet);
    // XXE: an external entity naming a local file, in the sheet and in the workbook.
    let xxe = r#"<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>"#;
    files.push((
        "xxe.xlsx".into(),
        "XXE in a sheet",
        xlsx(
            &sheet_xml(xxe, r#"<c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c>"#),
            None,
        )?,
    ));
    let wb = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>{xxe}<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="&xxe;" sheetId="1" r:id="rId1"/></sheets></workbook>"#
    );
    files.push((
        "xxe-workbook.xlsx".into(),
        "XXE in the workbook",
        xlsx(&sheet_xml("", ""), Some(&wb))?,
    ));
    // An entity bomb (billion laughs).
    let mut laughs = String::from("<!DOCTYPE lolz [<!ENTITY lol \"lol\">");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_owned()
        } else {
            format!("lol{}", i - 1)
        };
        laughs.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">",
            format!("&{prev};").repeat(10)
        ));
    }
    laughs.push_str("]>");
    files.push((
        "laughs.xlsx".into(),
        "entity bomb",
        xlsx(
            &sheet_xml(
                &laughs,
                r#"<c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c>"#,
            ),
            None,
        )?,
    ));
    files.push(("encrypted.xlsx".into(), "encrypted workbook", encrypted()?));
    let form = example_form();
    files.push((
        "truncated.xlsx".into(),
        "truncated workbook",
        form[..form.len() / 2].to_vec(),
    ));
    let mut garbled = form.clone();
    for b in garbled.iter_mut().skip(400).step_by(7) {
        *b = b.wrapping_add(0x5A);
    }
    files.push(("garbled.xlsx".into(), "corrupt workbook", garbled));
    files.push((
        "fake.xlsx".into(),
        "not a zip",
        b"PK\x03\x04 not really a zip".to_vec(),
    ));
    files.push((
        "page.xlsx".into(),
        "HTML named .xlsx",
        b"<html><script>alert(1)</script></html>".to_vec(),
    ));
    files.push((
        "doc.pdf".into(),
        "a PDF",
        b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj<<>>endobj\n".to_vec(),
    ));
    files.push((
        "empty.xlsx".into(),
        "an empty zip",
        zip(&[], zip::CompressionMethod::Stored)?,
    ));
    files.push((
        "../../../etc/passwd".into(),
        "a file name with ../",
        b"root:x:0:0".to_vec(),
    ));
    files.push((
        "slip.xlsx".into(),
        "zip slip entry names",
        zip(
            &[
                ("../../../../tmp/uketsuke-attack-slip", b"owned".to_vec()),
                ("/etc/uketsuke-attack-slip", b"owned".to_vec()),
            ],
            zip::CompressionMethod::Deflated,
        )?,
    ));
    // Huge declared dimensions and a cell far away.
    files.push((
        "far.xlsx".into(),
        "a cell at XFD1048576",
        xlsx(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row><row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>b</t></is></c></row></sheetData></worksheet>"#,
            None,
        )?,
    ));
    Ok(files)
}

async fn counts(ctx: &Ctx) -> anyhow::Result<u64> {
    Ok(reception_request::Entity::find().count(&ctx.pool).await?)
}

/// Every hostile file through the upload page and `uketsuke import`: a plain refusal
/// (no 500, a short page, nothing of a local file), nothing saved, the CLI exits
/// non-zero in time.
pub async fn hostile(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let before = counts(ctx).await?;
    let b = ctx.signed_in("tanto-a").await?;
    for (name, what, bytes) in hostile_files()? {
        let started = Instant::now();
        ctx.server.reset_peak();
        let (rss_before, _) = ctx.server.memory_kib();
        let p = b.upload(&name, bytes.clone()).await?;
        let (_, hwm) = ctx.server.memory_kib();
        let growth_mb = hwm.saturating_sub(rss_before) / 1024;
        let text = p.text();
        t.check(
            p.status != StatusCode::INTERNAL_SERVER_ERROR
                && !text.contains("root:x:0:0")
                && !text.contains("lollollol")
                && text.len() < 200_000,
            || format!("upload of {what}: {} ({} bytes)", p.status, text.len()),
        );
        if text.contains("action=\"/requests/upload/") {
            eprintln!("      {what}: read as a workbook (a preview, nothing saved)");
        }
        t.check(growth_mb < MEMORY_BOUND_MB, || {
            format!(
                "upload of {what} ({} KB): the server's memory peaked {growth_mb} MB above its level before",
                bytes.len() / 1024
            )
        });
        t.check(started.elapsed() < Duration::from_secs(60), || {
            format!("upload of {what} took {:?}", started.elapsed())
        });
        let path = ctx.bin.dir.join(format!("hostile-{}", percent(&name)));
        std::fs::write(&path, &bytes)?;
        let path_s = path.display().to_string();
        let mut child = ctx
            .bin
            .command(&ctx.db.url, ctx.smtp.port, &["import", path_s.as_str()])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        let pid = child.id();
        let mut peak = 0;
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            peak = peak.max(memory_kib(pid).1);
            if let Ok(Some(s)) = child.try_wait() {
                break Some(s);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        t.check(status.is_some_and(|s| !s.success()), || {
            format!("uketsuke import of {what}: {status:?}")
        });
        t.check(peak / 1024 < MEMORY_BOUND_MB, || {
            format!("uketsuke import of {what} peaked at {} MB", peak / 1024)
        });
        let _ = std::fs::remove_file(&path);
    }
    t.check(
        !std::path::Path::new("/tmp/uketsuke-attack-slip").exists()
            && !std::path::Path::new("/etc/uketsuke-attack-slip").exists(),
        || "a zip entry was written outside".into(),
    );
    let after = counts(ctx).await?;
    t.check(before == after, || {
        format!("hostile files saved {} requests", after - before)
    });
    Ok(t)
}

/// One huge cell (8 million characters, 6 MB compressed, inside every size limit), once
/// and then four at once: a plain refusal naming the cell, a short page, and the
/// server's memory bounded.
pub async fn huge_cell_uploads(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let chars = if ctx.fast { 4_000_000 } else { 8_000_000 };
    let bytes = huge_cell(chars)?;
    let b = ctx.signed_in("tanto-a").await?;
    ctx.server.reset_peak();
    let (rss_before, _) = ctx.server.memory_kib();
    let check = |t: &mut Tally, p: &super::client::Page| {
        let text = p.text();
        t.check(
            p.status != StatusCode::INTERNAL_SERVER_ERROR
                && text.len() < 100_000
                && (text.contains("文字") || text.contains("長すぎ")),
            || format!("huge cell: {} ({} bytes)", p.status, text.len()),
        );
    };
    let p = b.upload("huge.xlsx", bytes.clone()).await?;
    check(&mut t, &p);
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (b, bytes) = (b.clone(), bytes.clone());
        tasks.push(tokio::spawn(
            async move { b.upload("huge.xlsx", bytes).await },
        ));
    }
    // Watch the server's memory while they run.
    let pid = ctx.server.pid();
    let mut peak = 0;
    while !tasks.iter().all(|t| t.is_finished()) {
        peak = peak.max(memory_kib(pid).0);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for task in tasks {
        match task.await? {
            Ok(p) => check(&mut t, &p),
            Err(e) => t.error(&e),
        }
    }
    let (rss_after, hwm) = ctx.server.memory_kib();
    let growth_mb = hwm.saturating_sub(rss_before) / 1024;
    eprintln!(
        "      server memory: {} MB before, {} MB peak seen, {} MB high-water mark, {} MB after ({} MB file, {} characters)",
        rss_before / 1024,
        peak / 1024,
        hwm / 1024,
        rss_after / 1024,
        bytes.len() / (1024 * 1024),
        chars
    );
    t.check(growth_mb < 2 * MEMORY_BOUND_MB, || {
        format!("the server's high-water mark grew by {growth_mb} MB")
    });
    Ok(t)
}

/// Bodies over the limits: an upload over 32 MB gets 413 「ファイルが大きすぎます」; a form
/// or JSON body of 8 MB is refused (413), never a 500; `uketsuke import /dev/zero` stops at
/// the size limit with a message, in bounded memory.
pub async fn oversized(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let b = ctx.signed_in("tanto-a").await?;
    // The server answers as soon as the limit is passed and stops reading, so the
    // client may find the connection closed while it still sends: that is a refusal
    // too, but one of the tries must show the page.
    let big = vec![b'x'; uketsuke_web::routes::UPLOAD_LIMIT + 16 * 1024];
    let mut told = false;
    for _ in 0..5 {
        let outcome = b.upload("big.xlsx", big.clone()).await;
        if let Ok(p) = &outcome
            && p.status == StatusCode::PAYLOAD_TOO_LARGE
            && p.text().contains("ファイルが大きすぎます")
        {
            told = true;
        }
        let status = outcome.map(|p| p.status);
        t.check(refused_large(&status), || {
            format!("an upload over the limit: {status:?}")
        });
    }
    t.check(told, || {
        "no upload over the limit was answered 413 「ファイルが大きすぎます」".into()
    });
    // Forms and JSON over the default body limit (2 MB): 413, or the connection closed
    // by the server before the whole body was taken; never a 500 and nothing saved.
    let before = counts(ctx).await?;
    let long = "x".repeat(4 * 1024 * 1024);
    let csrf = b.csrf("/requests/new").await?;
    let form = b
        .post_form(
            "/requests/new",
            &[("csrf", csrf.as_str()), ("facility_name", long.as_str())],
        )
        .await
        .map(|p| p.status);
    t.check(refused_large(&form), || format!("a 4 MB form: {form:?}"));
    let api = ctx.api("tanto-a");
    let json = api
        .post(
            "/api/v1/requests",
            &super::client::new_case(&long, "東京都新宿区西新宿2-8-1"),
        )
        .await
        .map(|r| r.0);
    t.check(refused_large(&json), || {
        format!("a 4 MB JSON body: {json:?}")
    });
    let after = counts(ctx).await?;
    t.check(before == after, || "an oversized body was saved".into());
    // /dev/zero: endless; refused at the size limit instead of read to the end.
    let started = Instant::now();
    let mut child = ctx
        .bin
        .command(&ctx.db.url, ctx.smtp.port, &["import", "/dev/zero"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let pid = child.id();
    let mut peak = 0;
    let status = loop {
        peak = peak.max(memory_kib(pid).1);
        if let Ok(Some(s)) = child.try_wait() {
            break Some(s);
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stderr = String::new();
    let mut stdout = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
    }
    if let Some(mut o) = child.stdout.take() {
        let _ = std::io::Read::read_to_string(&mut o, &mut stdout);
    }
    eprintln!(
        "      import /dev/zero: {:?} in {:.1} s, peak {} MB",
        status,
        started.elapsed().as_secs_f64(),
        peak / 1024
    );
    t.check(status.is_some_and(|s| !s.success()), || {
        format!("import /dev/zero: {status:?}")
    });
    t.check(peak < 200 * 1024, || {
        format!("import /dev/zero used {} MB", peak / 1024)
    });
    let text = format!("{stdout}{stderr}");
    t.check(
        text.contains("ファイルサイズ") || text.contains("大きすぎ"),
        || {
            format!(
                "import /dev/zero said: {}",
                text.chars().take(300).collect::<String>()
            )
        },
    );
    Ok(t)
}

/// A 413, or the server closing the connection before taking a body over the limit.
fn refused_large(outcome: &anyhow::Result<StatusCode>) -> bool {
    match outcome {
        Ok(s) => *s == StatusCode::PAYLOAD_TOO_LARGE,
        Err(e) => {
            let text = format!("{e:#}");
            text.contains("Broken pipe") || text.contains("reset") || text.contains("closed")
        }
    }
}

/// A monthly list of `rows` requests (a large file for kill -9 mid-import).
pub fn monthly_list(rows: usize, tag: &str) -> anyhow::Result<Vec<u8>> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("受付一覧")?;
    ws.write(0, 0, "受付番号情報提供依頼 受付一覧")?;
    let header = [
        "項番",
        "施設名",
        "区分",
        "〒",
        "住所",
        "指定日",
        "提出日",
        "開設者名",
        "保険医登録番号",
        "担当者電話",
        "送付先郵便番号",
        "送付先住所",
        "送付先氏名",
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write(2, c as u16, *h)?;
    }
    for i in 0..rows {
        let r = 3 + i as u32;
        let values = [
            (i + 1).to_string(),
            format!("{tag}医院{i:05}"),
            "医科".into(),
            "160-0023".into(),
            format!("東京都新宿区西新宿2-8-{}", i % 50 + 1),
            "令和9年4月1日".into(),
            "R8.11.20".into(),
            "資格 花子".into(),
            String::new(),
            "03-5321-1111".into(),
            String::new(),
            String::new(),
            String::new(),
        ];
        for (c, v) in values.iter().enumerate() {
            if !v.is_empty() {
                ws.write(r, c as u16, v.as_str())?;
            }
        }
    }
    Ok(wb.save_to_buffer()?)
}
