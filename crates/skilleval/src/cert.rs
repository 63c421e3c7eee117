//! `skilleval cert …`: signing keys and offline verification of certificates. Verification
//! needs only the published public-key file, never the database or the network.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use certsign::{KeyRing, SigningKey, StatusList};
use chrono::NaiveDate;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum CertCommand {
    /// Make a new Ed25519 signing key: writes DIR/signing-key-<kid>.pem (keep it secret, mode
    /// 0600) and adds its public key to DIR/public-keys.json (publish that file). An open key
    /// already in the file is closed the day before the new one starts (rotation).
    Keygen {
        /// Directory for the key files.
        #[arg(long)]
        out: PathBuf,
        /// First day the key signs (YYYY-MM-DD, China time). Default: today.
        #[arg(long)]
        valid_from: Option<NaiveDate>,
    },
    /// Verify a certificate offline: a scanned QR text (the URL) or a certificate PDF of this
    /// platform. Prints 有效 or 无效 with the signed fields; exits 0 when valid, 2 when not.
    Verify {
        /// The QR text, or the path of a certificate PDF.
        input: String,
        /// The published public-key file (public-keys.json).
        #[arg(long)]
        keys: PathBuf,
        /// Optionally, a downloaded status list (JSON) to check revocation offline too.
        #[arg(long)]
        status: Option<PathBuf>,
    },
}

pub fn run(cmd: CertCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        CertCommand::Keygen { out, valid_from } => keygen(&out, valid_from),
        CertCommand::Verify {
            input,
            keys,
            status,
        } => verify(&input, &keys, status.as_deref()),
    }
}

fn today_cn() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

fn keygen(out: &Path, valid_from: Option<NaiveDate>) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(out).with_context(|| format!("无法创建目录 {}", out.display()))?;
    let from = valid_from.unwrap_or_else(today_cn);
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let kid = hex::encode(key.kid());
    let pem_path = out.join(format!("signing-key-{kid}.pem"));
    let pub_path = out.join("public-keys.json");
    let mut ring = if pub_path.exists() {
        let text = std::fs::read_to_string(&pub_path)?;
        KeyRing::from_json(&text).map_err(|e| anyhow::anyhow!("{}：{e}", pub_path.display()))?
    } else {
        KeyRing::default()
    };
    let mut keys = ring.keys().to_vec();
    for k in keys.iter_mut() {
        if k.valid_until.is_none() {
            if k.valid_from >= from {
                anyhow::bail!(
                    "现有密钥 {} 自 {} 起有效，新密钥的起始日 {from} 须晚于它",
                    hex::encode(k.kid),
                    k.valid_from
                );
            }
            k.valid_until = from.pred_opt();
        }
    }
    let mut public = key.public();
    public.valid_from = from;
    keys.push(public);
    ring = KeyRing::new(keys);
    write_private(&pem_path, &key.to_pkcs8_pem())?;
    std::fs::write(&pub_path, ring.to_json())
        .with_context(|| format!("无法写入 {}", pub_path.display()))?;
    println!("已生成签名密钥 {kid}（自 {from} 起有效）");
    println!("私钥：{}（请妥善保管并备份，切勿公开）", pem_path.display());
    println!(
        "公钥文件：{}（发布于 /public/certificates/keys）",
        pub_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn write_private(path: &Path, pem: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o
        .open(path)
        .with_context(|| format!("无法创建私钥文件 {}（已存在时不会覆盖）", path.display()))?;
    f.write_all(pem.as_bytes())?;
    Ok(())
}

/// The QR text from the command line: a PDF file of ours, or the text itself.
fn qr_input(input: &str) -> Result<String, String> {
    let path = Path::new(input);
    if !input.contains("/v/") || path.is_file() {
        let bytes = std::fs::read(path).map_err(|e| format!("无法读取文件 {input}：{e}"))?;
        if !bytes.starts_with(b"%PDF-") {
            return Err(format!("{input} 不是 PDF 文件，也不是证书二维码内容"));
        }
        return certpdf::extract_qr_text(&bytes)
            .ok_or_else(|| format!("{input} 不是本平台签发的证书 PDF（其中没有证书签名数据）"));
    }
    Ok(input.to_string())
}

fn verify(input: &str, keys: &Path, status: Option<&Path>) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(keys)
        .with_context(|| format!("无法读取公钥文件 {}", keys.display()))?;
    let ring = KeyRing::from_json(&text).map_err(|e| anyhow::anyhow!("{}：{e}", keys.display()))?;
    let qr = match qr_input(input) {
        Ok(q) => q,
        Err(e) => {
            println!("无效：{e}");
            return Ok(ExitCode::from(2));
        }
    };
    let p = match ring.verify_qr(&qr) {
        Ok(p) => p,
        Err(e) => {
            println!("无效：{e}");
            return Ok(ExitCode::from(2));
        }
    };
    let level = domain::occupation::Level::from_u8(p.level)
        .map(|l| l.name().to_string())
        .unwrap_or_else(|| p.level.to_string());
    let signed = chrono::DateTime::from_timestamp(p.signed_at + 8 * 3600, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default();
    let mut verdict = "有效：签名正确，证书由本平台签发且内容未被改动".to_string();
    let mut code = ExitCode::SUCCESS;
    if let Some(path) = status {
        let json = std::fs::read_to_string(path)
            .with_context(|| format!("无法读取状态列表 {}", path.display()))?;
        match StatusList::verify_credential(&json, &ring) {
            Ok(c) if c.list.get(p.status_index) => {
                verdict = "无效：该证书已撤销（据已签名的状态列表）".into();
                code = ExitCode::from(2);
            }
            Ok(c) => {
                let at = chrono::DateTime::from_timestamp(c.issued_at + 8 * 3600, 0)
                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default();
                verdict.push_str(&format!("；截至状态列表发布时间 {at} 未被撤销"));
            }
            Err(e) => anyhow::bail!("状态列表无法验证：{e}"),
        }
    } else {
        verdict.push_str("（未核对撤销状态：在线查询或使用 --status 状态列表）");
    }
    println!("{verdict}");
    println!("证书编号：{}", p.number);
    println!("姓名：{}", p.name);
    println!("证件类型：{}", p.id_type);
    println!("证件号码：{}", p.id_masked);
    println!("职业：{} {}", p.occupation_code, p.occupation_name);
    println!("工种/职业方向：{}", p.work_type.as_deref().unwrap_or("--"));
    println!("等级：{level}");
    println!("发证日期：{}", p.issued_on);
    println!("评价机构：{}", p.institution);
    println!("签名时间：{signed}（北京时间）");
    Ok(code)
}
