//! 字体: the fonts a document is set in, loaded once. The default is a GB 2312 subset of
//! Noto Serif CJK SC (OFL) committed in `fonts/` (see docs/fonts.md); a configured font file
//! overrides it (a face of a `.ttc` collection is picked by family name), and fallback fonts
//! cover rare characters. A character in none of them is an error naming it.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use crate::PdfError;

/// The default face: Noto Serif CJK SC, subset to ASCII + GB 2312 + common name characters.
static DEFAULT_FONT: &[u8] = include_bytes!("../fonts/NotoSerifCJKsc-Regular-GB2312.otf");

/// One font face: its file's bytes and the index of the face in it.
#[derive(Clone)]
pub struct FontFace {
    data: Arc<[u8]>,
    index: u32,
    family: String,
    ps_name: String,
    pub(crate) cff: bool,
}

impl std::fmt::Debug for FontFace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FontFace")
            .field("family", &self.family)
            .field("ps_name", &self.ps_name)
            .field("index", &self.index)
            .field("bytes", &self.data.len())
            .finish()
    }
}

fn names(face: &ttf_parser::Face<'_>, id: u16) -> Vec<String> {
    face.names()
        .into_iter()
        .filter(|n| n.name_id == id)
        .filter_map(|n| n.to_string())
        .collect()
}

impl FontFace {
    fn from_data(data: Arc<[u8]>, index: u32, origin: &str) -> Result<Self, PdfError> {
        let face = ttf_parser::Face::parse(&data, index).map_err(|e| {
            PdfError::Font(format!("{origin} 不是可用的 OpenType/TrueType 字体（{e}）"))
        })?;
        let family = names(&face, ttf_parser::name_id::TYPOGRAPHIC_FAMILY)
            .into_iter()
            .chain(names(&face, ttf_parser::name_id::FAMILY))
            .next()
            .unwrap_or_default();
        let ps_name: String = names(&face, ttf_parser::name_id::POST_SCRIPT_NAME)
            .into_iter()
            .next()
            .unwrap_or_else(|| family.clone())
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let raw = face.raw_face();
        let cff = raw.table(ttf_parser::Tag::from_bytes(b"CFF ")).is_some();
        if !cff && raw.table(ttf_parser::Tag::from_bytes(b"glyf")).is_none() {
            return Err(PdfError::Font(format!(
                "{origin} 没有可嵌入的字形（仅支持 CFF 或 TrueType 轮廓）"
            )));
        }
        Ok(FontFace {
            data,
            index,
            family,
            ps_name: if ps_name.is_empty() {
                "Font".into()
            } else {
                ps_name
            },
            cff,
        })
    }

    /// Reads a font file; in a collection (`.ttc`/`.otc`) the face whose family name (any
    /// language) is `family`, or the first face when `family` is `None`.
    pub fn load(path: &Path, family: Option<&str>) -> Result<Self, PdfError> {
        let origin = format!("字体文件 {}", path.display());
        let data: Arc<[u8]> = std::fs::read(path)
            .map_err(|e| PdfError::Font(format!("无法读取{origin}：{e}")))?
            .into();
        Self::from_bytes(data, family, &origin)
    }

    /// Like [`FontFace::load`], from bytes already in memory.
    pub fn from_bytes(
        data: Arc<[u8]>,
        family: Option<&str>,
        origin: &str,
    ) -> Result<Self, PdfError> {
        let count = ttf_parser::fonts_in_collection(&data).unwrap_or(1);
        let Some(family) = family.map(str::trim).filter(|f| !f.is_empty()) else {
            return Self::from_data(data, 0, origin);
        };
        let mut seen = vec![];
        for i in 0..count {
            let Ok(face) = ttf_parser::Face::parse(&data, i) else {
                continue;
            };
            let fams: Vec<String> = names(&face, ttf_parser::name_id::TYPOGRAPHIC_FAMILY)
                .into_iter()
                .chain(names(&face, ttf_parser::name_id::FAMILY))
                .chain(names(&face, ttf_parser::name_id::FULL_NAME))
                .collect();
            if fams.iter().any(|f| f.eq_ignore_ascii_case(family)) {
                return Self::from_data(data.clone(), i, origin);
            }
            seen.extend(fams.into_iter().take(1));
        }
        seen.dedup();
        Err(PdfError::Font(format!(
            "{origin} 中没有名为“{family}”的字体（其中有：{}）",
            seen.join("、")
        )))
    }

    /// The built-in face (GB 2312 subset of Noto Serif CJK SC).
    pub fn builtin() -> Self {
        static FACE: OnceLock<FontFace> = OnceLock::new();
        FACE.get_or_init(|| {
            Self::from_data(Arc::from(DEFAULT_FONT), 0, "内置字体")
                .expect("the committed font parses")
        })
        .clone()
    }

    pub fn family(&self) -> &str {
        &self.family
    }

    pub fn postscript_name(&self) -> &str {
        &self.ps_name
    }

    pub(crate) fn data(&self) -> &[u8] {
        &self.data
    }

    pub(crate) fn index(&self) -> u32 {
        self.index
    }

    pub(crate) fn parse(&self) -> ttf_parser::Face<'_> {
        ttf_parser::Face::parse(&self.data, self.index).expect("checked when loaded")
    }
}

/// The fonts of a document, in order of preference: the main face, then fallbacks.
#[derive(Debug, Clone)]
pub struct Fonts {
    faces: Vec<FontFace>,
}

/// Where fonts come from (settings `certificate_font*`). Empty paths mean the built-in font.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FontConfig {
    pub path: Option<std::path::PathBuf>,
    /// Family name of the face in a collection, e.g. "Noto Serif CJK SC" or "FangSong".
    pub family: Option<String>,
    /// Fallback fonts for characters the main font lacks (rare name characters).
    pub fallbacks: Vec<(std::path::PathBuf, Option<String>)>,
}

impl Default for Fonts {
    fn default() -> Self {
        Fonts {
            faces: vec![FontFace::builtin()],
        }
    }
}

impl Fonts {
    pub fn new(main: FontFace, fallbacks: Vec<FontFace>) -> Self {
        let mut faces = vec![main];
        faces.extend(fallbacks);
        Fonts { faces }
    }

    /// Loads the configured fonts (each file read once).
    pub fn from_config(c: &FontConfig) -> Result<Self, PdfError> {
        let main = match &c.path {
            Some(p) => FontFace::load(p, c.family.as_deref())?,
            None => FontFace::builtin(),
        };
        let fallbacks = c
            .fallbacks
            .iter()
            .map(|(p, f)| FontFace::load(p, f.as_deref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Fonts::new(main, fallbacks))
    }

    pub fn faces(&self) -> &[FontFace] {
        &self.faces
    }
}

static INSTALLED: OnceLock<Fonts> = OnceLock::new();

/// Sets the process-wide fonts (once, at start-up, from the settings). Later calls are ignored
/// and return `false`.
pub fn install_fonts(fonts: Fonts) -> bool {
    INSTALLED.set(fonts).is_ok()
}

/// The process-wide fonts: the installed ones, or the built-in font.
pub fn fonts() -> &'static Fonts {
    INSTALLED.get_or_init(Fonts::default)
}
