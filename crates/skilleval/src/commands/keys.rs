//! Keys and secrets (密钥): generated, rotated and shown here, kept in configuration.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::settings::{self, Settings};
use crate::KeysCommand;

/// `skilleval keys generate | rotate-letter-key | show`.
pub fn run(config: Option<&Path>, command: KeysCommand) -> anyhow::Result<ExitCode> {
    match command {
        KeysCommand::Generate { out } => {
            let text = store::Keys::generate_file();
            match out {
                None => print!("{text}"),
                Some(path) => {
                    write_private(&path, &text, false)?;
                    println!("已生成密钥文件 {}（权限 0600）；请在配置中设置 keys_file 指向它，并另行备份", path.display());
                }
            }
        }
        KeysCommand::RotateLetterKey { keys_file } => {
            let text = std::fs::read_to_string(&keys_file)
                .with_context(|| format!("无法读取密钥文件 {}", keys_file.display()))?;
            let mut out = String::new();
            let mut done = false;
            for line in text.lines() {
                match line.split_once('=') {
                    Some((k, v)) if k.trim() == "letter_keys" && !done => {
                        let current = v.trim().trim_matches('"');
                        let rotated = store::Keys::rotated_letter_keys(current)
                            .map_err(|e| anyhow::anyhow!("{e}"))?;
                        out.push_str(&format!("letter_keys = \"{rotated}\"\n"));
                        done = true;
                    }
                    _ => {
                        out.push_str(line);
                        out.push('\n');
                    }
                }
            }
            if !done {
                anyhow::bail!("密钥文件 {} 中没有 letter_keys 一行", keys_file.display());
            }
            write_private(&keys_file, &out, true)?;
            println!("已在 {} 中加入新的签名密钥（排在最前，用于新签名；旧密钥保留用于验证）。请重启各应用服务器", keys_file.display());
        }
        KeysCommand::Show => {
            let s = Settings::load(config, &settings::DbArgs::default(), None)?;
            match s.keys()? {
                None => println!("未配置密钥（letter_keys / id_pepper / keys_file）"),
                Some(k) => {
                    for (i, l) in k.letter_keys().iter().enumerate() {
                        let role = if i == 0 { "签名" } else { "仅验证" };
                        println!("letter_keys  {}  指纹 {}  ({role})", l.kid, l.fingerprint());
                    }
                    println!(
                        "id_pepper    指纹 {}",
                        k.id_pepper_fingerprint().unwrap_or_default()
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Write a secret file readable by its owner only; `replace` swaps it in atomically.
fn write_private(path: &std::path::Path, text: &str, replace: bool) -> anyhow::Result<()> {
    use std::io::Write;
    let target = if replace {
        path.with_extension("tmp")
    } else {
        path.to_path_buf()
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(&target)
        .with_context(|| format!("无法创建 {}（已存在？）", target.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    if replace {
        std::fs::rename(&target, path)?;
    }
    Ok(())
}
