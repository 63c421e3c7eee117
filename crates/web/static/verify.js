// 证书离线查验: decodes a certificate's QR text, parses its COSE_Sign1 (RFC 9052) structure
// and CBOR payload, and checks the Ed25519 signature with WebCrypto against the platform's
// published public keys. Nothing about the certificate is sent anywhere. The format is in
// docs/certificate-format.md and mirrors crates/certsign.
"use strict";

var SkillevalVerify = (function () {
  var ID_TYPES = ["居民身份证", "护照", "港澳居民来往内地通行证", "台湾居民来往大陆通行证",
    "外国人永久居留身份证", "港澳台居民居住证"];
  var LEVELS = { 1: "一级/高级技师", 2: "二级/技师", 3: "三级/高级工", 4: "四级/中级工", 5: "五级/初级工" };
  // Decimal digits for a final group of k bytes (k = 0..7).
  var DIGITS = [0, 3, 5, 8, 10, 13, 15, 17];

  function fail(msg) { var e = new Error(msg); e.verifyError = true; return e; }

  // The QR text: {base}/v/{number}?s={digits} (or #s=).
  function parseQrText(text) {
    text = String(text).trim();
    var at = text.lastIndexOf("/v/");
    if (at < 0) throw fail("二维码内容格式错误：不是证书查验网址（缺少 /v/证书编号）");
    var rest = text.slice(at + 3);
    var end = rest.search(/[?#]/);
    if (end < 0) end = rest.length;
    var number;
    try { number = decodeURIComponent(rest.slice(0, end)); } catch (e) { number = ""; }
    if (!number || number.indexOf("/") >= 0) throw fail("二维码内容格式错误：网址中的证书编号无效");
    var params = rest.slice(end).replace(/^[?#]+/, "").split(/[&#?]/);
    var s = null;
    for (var i = 0; i < params.length; i++) if (params[i].indexOf("s=") === 0) { s = params[i].slice(2); break; }
    if (s === null) throw fail("二维码内容格式错误：网址中没有签名数据（参数 s）");
    return { number: number, cose: digitsToBytes(s) };
  }

  function digitsToBytes(d) {
    var bad = fail("二维码内容格式错误：签名数据不是有效的数字串（可能被截断或改动）");
    if (!/^[0-9]*$/.test(d)) throw bad;
    var full = Math.floor(d.length / 17), last = DIGITS.indexOf(d.length % 17);
    if (last < 0) throw bad;
    var out = [], pos = 0;
    for (var g = 0; g < full + (last > 0 ? 1 : 0); g++) {
      var k = g < full ? 7 : last, w = DIGITS[k];
      var v = BigInt(d.slice(pos, pos + w));
      if (v >> BigInt(8 * k) !== 0n) throw bad;
      for (var i = k - 1; i >= 0; i--) out.push(Number((v >> BigInt(8 * i)) & 0xffn));
      pos += w;
    }
    return new Uint8Array(out);
  }

  // A minimal CBOR (RFC 8949) reader: what COSE_Sign1 and our payload use.
  function cborRead(bytes) {
    var pos = 0;
    function malformed() { return fail("证书签名数据格式错误：不是有效的 CBOR 数据"); }
    function u8() { if (pos >= bytes.length) throw malformed(); return bytes[pos++]; }
    function arg(info) {
      if (info < 24) return info;
      var n = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : -1;
      if (n < 0) throw malformed();
      var v = 0;
      for (var i = 0; i < n; i++) v = v * 256 + u8();
      if (v > Number.MAX_SAFE_INTEGER) throw malformed();
      return v;
    }
    function item(depth) {
      if (depth > 16) throw malformed();
      var b = u8(), major = b >> 5, info = b & 31;
      if (major === 7) {
        if (info === 20) return false;
        if (info === 21) return true;
        if (info === 22) return null;
        throw malformed();
      }
      var n = arg(info);
      switch (major) {
        case 0: return n;
        case 1: return -1 - n;
        case 2: if (pos + n > bytes.length) throw malformed(); pos += n; return { bytes: bytes.slice(pos - n, pos) };
        case 3:
          if (pos + n > bytes.length) throw malformed(); pos += n;
          return new TextDecoder("utf-8", { fatal: true }).decode(bytes.slice(pos - n, pos));
        case 4: { var a = []; for (var i = 0; i < n; i++) a.push(item(depth + 1)); return a; }
        case 5: {
          var m = new Map();
          for (var j = 0; j < n; j++) { var k = item(depth + 1); m.set(k, item(depth + 1)); }
          return m;
        }
        case 6: return { tag: n, value: item(depth + 1) };
      }
      throw malformed();
    }
    var v = item(0);
    if (pos !== bytes.length) throw fail("证书签名数据格式错误：数据末尾有多余内容");
    return v;
  }

  function head(major, n) {
    if (n < 24) return [(major << 5) | n];
    if (n < 256) return [(major << 5) | 24, n];
    if (n < 65536) return [(major << 5) | 25, n >> 8, n & 255];
    return [(major << 5) | 26, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  }

  // Sig_structure = ["Signature1", protected, h'', payload]
  function sigStructure(protectedBytes, payload) {
    var label = new TextEncoder().encode("Signature1");
    var parts = [[0x84], head(3, label.length), label, head(2, protectedBytes.length), protectedBytes,
      [0x40], head(2, payload.length), payload];
    var len = parts.reduce(function (s, p) { return s + p.length; }, 0);
    var out = new Uint8Array(len), o = 0;
    parts.forEach(function (p) { out.set(p, o); o += p.length; });
    return out;
  }

  function hex(b) { return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join(""); }

  function b64url(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function parseCose(bytes) {
    var v = cborRead(bytes);
    if (v && v.tag === 18) v = v.value;
    if (!Array.isArray(v) || v.length !== 4) throw fail("证书签名数据格式错误：不是 COSE_Sign1 结构");
    var prot = v[0], unprot = v[1], payload = v[2], sig = v[3];
    if (!prot || !prot.bytes || !(unprot instanceof Map) || !payload || !payload.bytes || !sig || !sig.bytes)
      throw fail("证书签名数据格式错误：COSE_Sign1 元素类型错误");
    if (unprot.size !== 0) throw fail("证书签名数据格式错误：不接受未受保护的头部参数");
    if (sig.bytes.length !== 64) throw fail("证书签名数据格式错误：签名长度应为64字节");
    var h = cborRead(prot.bytes);
    if (!(h instanceof Map) || h.get(1) !== -8) throw fail("证书签名数据格式错误：签名算法不是 EdDSA");
    var kid = h.get(4);
    if (!kid || !kid.bytes || kid.bytes.length !== 8) throw fail("证书签名数据格式错误：缺少密钥标识");
    return { protected: prot.bytes, kid: hex(kid.bytes), payload: payload.bytes, signature: sig.bytes };
  }

  function text(v, what) {
    if (typeof v === "string") return v;
    if (v && v.bytes) {
      try { return new TextDecoder("gb18030", { fatal: true }).decode(v.bytes); } catch (e) { /* below */ }
    }
    throw fail("证书签名数据格式错误：字段“" + what + "”应为文本");
  }

  function decodePayload(bytes) {
    var m = cborRead(bytes);
    if (!(m instanceof Map)) throw fail("证书签名数据格式错误：签名内容不是映射");
    function need(k, what) { if (!m.has(k)) throw fail("证书签名数据格式错误：缺少字段“" + what + "”"); return m.get(k); }
    var idType = need(3, "证件类型");
    if (typeof idType === "number") {
      if (!ID_TYPES[idType - 1]) throw fail("证书签名数据格式错误：证件类型代码未知");
      idType = ID_TYPES[idType - 1];
    } else idType = text(idType, "证件类型");
    var masked = need(4, "证件号码");
    if (Array.isArray(masked)) {
      var vis = Array.from(text(masked[0], "证件号码")), n = masked[1], h = vis.length / 2;
      if (vis.length % 2 || typeof n !== "number" || n <= vis.length || n > 64) throw fail("证书签名数据格式错误：字段“证件号码”格式错误");
      masked = vis.slice(0, h).join("") + "*".repeat(n - vis.length) + vis.slice(h).join("");
    } else masked = text(masked, "证件号码");
    var ymd = need(9, "发证日期");
    var issued = String(Math.floor(ymd / 10000)) + "-" + ("0" + Math.floor(ymd / 100) % 100).slice(-2) + "-" + ("0" + ymd % 100).slice(-2);
    return {
      number: text(need(1, "证书编号"), "证书编号"),
      name: text(need(2, "姓名"), "姓名"),
      idType: idType,
      idMasked: masked,
      occupationCode: text(need(5, "职业编码"), "职业编码"),
      occupationName: text(need(6, "职业名称"), "职业名称"),
      workType: m.has(7) ? text(m.get(7), "工种/职业方向") : null,
      level: need(8, "等级"),
      issuedOn: issued,
      institution: text(need(10, "评价机构"), "评价机构"),
      statusIndex: need(11, "状态序号"),
      signedAt: need(12, "签名时间"),
    };
  }

  // China Standard Time date of a unix time.
  function cstDate(seconds) { return new Date((seconds + 8 * 3600) * 1000).toISOString().slice(0, 10); }

  // Resolves to the verified payload, or rejects with a Chinese message.
  async function verify(qrText, keySet) {
    var qr = parseQrText(qrText);
    var cose = parseCose(qr.cose);
    var keys = (keySet && keySet.keys || []).filter(function (k) { return String(k.kid).toLowerCase() === cose.kid; });
    if (!keys.length) throw fail("签名密钥未知（密钥标识 " + cose.kid + "），无法确认证书由本平台签发");
    var msg = sigStructure(cose.protected, cose.payload), ok = null;
    for (var i = 0; i < keys.length && !ok; i++) {
      if (keys[i].kty !== "OKP" || keys[i].crv !== "Ed25519") continue;
      var key = await crypto.subtle.importKey("raw", b64url(keys[i].x), { name: "Ed25519" }, false, ["verify"]);
      if (await crypto.subtle.verify({ name: "Ed25519" }, key, cose.signature, msg)) ok = keys[i];
    }
    if (!ok) throw fail("签名校验失败：证书内容已被篡改或签名无效");
    var p = decodePayload(cose.payload);
    var day = cstDate(p.signedAt);
    var covered = keys.some(function (k) { return k.valid_from <= day && (!k.valid_until || day <= k.valid_until); });
    if (!covered) throw fail("签名时间 " + day + " 不在密钥 " + cose.kid + " 的有效期内");
    if (p.number !== qr.number) throw fail("二维码中的证书编号 " + qr.number + " 与签名内容中的编号 " + p.number + " 不一致");
    p.levelName = LEVELS[p.level] || String(p.level);
    p.kid = cose.kid;
    p.signedOn = new Date((p.signedAt + 8 * 3600) * 1000).toISOString().slice(0, 19).replace("T", " ");
    return p;
  }

  return { parseQrText: parseQrText, digitsToBytes: digitsToBytes, cborRead: cborRead, parseCose: parseCose,
    decodePayload: decodePayload, verify: verify };
})();

if (typeof document !== "undefined") {
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("verify-form");
    var qrBox = document.getElementById("qr-text");
    var keysBox = document.getElementById("keys-json");
    var keysState = document.getElementById("keys-state");
    var result = document.getElementById("verify-result");
    var card = document.getElementById("verify-fields-card");
    var list = document.getElementById("verify-fields");
    if (!form) return;
    // A QR text handed over in the fragment (#qr=…) is filled in; it never reaches a server.
    if (location.hash.indexOf("#qr=") === 0) {
      try { qrBox.value = decodeURIComponent(location.hash.slice(4)); } catch (e) { /* ignore */ }
    }
    var keysUrl = form.getAttribute("data-keys-url") || "/public/certificates/keys";
    fetch(keysUrl, { credentials: "omit" }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      return r.text();
    }).then(function (t) {
      if (!keysBox.value.trim()) keysBox.value = t;
      keysState.textContent = "已读取平台公布的公钥（" + keysUrl + "）；此后查验不再联网。";
    }, function () {
      keysState.textContent = "未能读取平台公钥：请粘贴公钥文件内容（public-keys.json）。";
    });
    function show(ok, message, p) {
      result.hidden = false;
      result.className = "notice " + (ok ? "ok" : "err");
      result.textContent = message;
      list.textContent = "";
      card.hidden = !p;
      if (!p) return;
      [["证书编号", p.number], ["姓名", p.name], ["证件类型", p.idType], ["证件号码", p.idMasked],
       ["职业", p.occupationCode + " " + p.occupationName], ["工种/职业方向", p.workType || "--"],
       ["等级", p.levelName], ["发证日期", p.issuedOn], ["评价机构", p.institution],
       ["签名时间", p.signedOn + "（北京时间）"], ["签名密钥", p.kid]].forEach(function (row) {
        var dt = document.createElement("dt"), dd = document.createElement("dd");
        dt.textContent = row[0];
        dd.textContent = row[1];
        list.appendChild(dt);
        list.appendChild(dd);
      });
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var keySet;
      try { keySet = JSON.parse(keysBox.value); } catch (e) {
        show(false, "无效：公钥内容不是有效的 JSON，请粘贴公钥文件 public-keys.json 的内容");
        return;
      }
      if (!window.crypto || !crypto.subtle) {
        show(false, "本浏览器不支持 WebCrypto，无法离线查验；请使用在线查询");
        return;
      }
      SkillevalVerify.verify(qrBox.value, keySet).then(function (p) {
        show(true, "有效：签名正确，证书由本平台签发且内容未被改动（撤销状态以在线查询为准）", p);
      }, function (e) {
        var msg = e && e.verifyError ? e.message : "本浏览器无法完成 Ed25519 签名校验（" + (e && e.message) + "）";
        show(false, "无效：" + msg);
      });
    });
  });
}

if (typeof module !== "undefined") module.exports = SkillevalVerify;
