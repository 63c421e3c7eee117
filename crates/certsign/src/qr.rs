//! 二维码文本: one URL of the public verification page that also carries the signature,
//!
//! ```text
//! {base_url}/v/{number}?s={digits}
//! ```
//! where `digits` is the COSE_Sign1 bytes packed as decimal digits: each 7-byte group
//! (big-endian) becomes 17 digits, a last group of k < 7 bytes becomes 3, 5, 8, 10, 13 or 15
//! digits. Digits let the QR encoder put the long part in numeric mode (3⅓ bits a digit,
//! ≈ 8.1 bits a byte) where base64 in byte mode would cost 10⅔ bits a byte; that is what keeps
//! the code at version ≤ 12 (level M). A query parameter, not a fragment, so that the page
//! `/v/{number}` receives it and can check the signature on the server too.

use crate::VerifyError;

/// Digits for a group of k bytes: the fewest decimal digits that hold 256^k − 1.
const DIGITS: [usize; 8] = [0, 3, 5, 8, 10, 13, 15, 17];

/// Packs bytes as decimal digits (see the module docs).
pub fn bytes_to_digits(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 17 / 7 + 17);
    for chunk in bytes.chunks(7) {
        let v = chunk.iter().fold(0u64, |a, b| (a << 8) | *b as u64);
        out.push_str(&format!("{v:0width$}", width = DIGITS[chunk.len()]));
    }
    out
}

/// Unpacks [`bytes_to_digits`]; a length or group value that no byte string gives is an error.
pub fn digits_to_bytes(digits: &str) -> Result<Vec<u8>, VerifyError> {
    let bad = || VerifyError::BadQrText("签名数据不是有效的数字串（可能被截断或改动）".into());
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let full = digits.len() / 17;
    let rest = digits.len() % 17;
    let last = DIGITS.iter().position(|d| *d == rest).ok_or_else(bad)?;
    let mut out = Vec::with_capacity(full * 7 + last);
    let mut pos = 0;
    for k in std::iter::repeat_n(7, full).chain((last > 0).then_some(last)) {
        let w = DIGITS[k];
        let v: u64 = digits[pos..pos + w].parse().map_err(|_| bad())?;
        if k < 8 && v >> (8 * k) != 0 {
            return Err(bad());
        }
        for i in (0..k).rev() {
            out.push((v >> (8 * i)) as u8);
        }
        pos += w;
    }
    Ok(out)
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~".contains(&b)
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if is_unreserved(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The QR text of a certificate: `{base_url}/v/{number}?s={digits}`.
pub fn qr_text(base_url: &str, number: &str, cose: &[u8]) -> String {
    format!(
        "{}/v/{}?s={}",
        base_url.trim_end_matches('/'),
        percent_encode(number),
        bytes_to_digits(cose)
    )
}

/// Reads a QR text (any host: a verifier only trusts the signature): the number in the path
/// and the COSE_Sign1 bytes. The `s` parameter may also come in the fragment (`#s=`).
pub fn parse_qr_text(text: &str) -> Result<(String, Vec<u8>), VerifyError> {
    let bad = |m: &str| VerifyError::BadQrText(m.to_string());
    let text = text.trim();
    let at = text
        .rfind("/v/")
        .ok_or_else(|| bad("不是证书查验网址（缺少 /v/证书编号）"))?;
    let rest = &text[at + 3..];
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let number = percent_decode(&rest[..end])
        .filter(|n| !n.is_empty() && !n.contains('/'))
        .ok_or_else(|| bad("网址中的证书编号无效"))?;
    let params = &rest[end..];
    let s = params
        .trim_start_matches(['?', '#'])
        .split(['&', '#', '?'])
        .find_map(|kv| kv.strip_prefix("s="))
        .ok_or_else(|| bad("网址中没有签名数据（参数 s）"))?;
    let cose = digits_to_bytes(s)?;
    Ok((number, cose))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_round_trip_every_length() {
        for n in 0..40usize {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + 255 - i) as u8).collect();
            let d = bytes_to_digits(&bytes);
            assert_eq!(digits_to_bytes(&d).unwrap(), bytes, "length {n}");
        }
        let all_ff = vec![0xFFu8; 7];
        assert_eq!(bytes_to_digits(&all_ff), "72057594037927935");
        // 17 digits above 2^56−1 and a length no group gives are refused.
        assert!(digits_to_bytes("99999999999999999").is_err());
        assert!(digits_to_bytes("1234").is_err());
        assert!(digits_to_bytes("12a").is_err());
    }

    #[test]
    fn qr_text_round_trip() {
        let t = qr_text(
            "https://pj.example.cn/",
            "S000041000123265000001",
            &[1, 2, 3],
        );
        assert_eq!(
            t,
            "https://pj.example.cn/v/S000041000123265000001?s=00066051"
        );
        let (n, c) = parse_qr_text(&t).unwrap();
        assert_eq!(
            (n.as_str(), c.as_slice()),
            ("S000041000123265000001", &[1u8, 2, 3][..])
        );
        let (_, c) = parse_qr_text("http://x/v/A1#s=00066051").unwrap();
        assert_eq!(c, vec![1, 2, 3]);
        let e = parse_qr_text("https://pj.example.cn/other").unwrap_err();
        assert!(e.to_string().contains("二维码内容格式错误"), "{e}");
        assert!(parse_qr_text("https://x/v/A1").is_err());
    }
}
