//! 演示照片: a generated one-inch portrait (PNG, 250 × 350, head-and-shoulders silhouette on a
//! coloured background) for demo data and tests, so that no personal photo is ever shipped.

/// A portrait PNG; `variant` changes the background and clothing colours.
pub fn demo_photo_png(variant: u32) -> Vec<u8> {
    const BACKGROUNDS: [[u8; 3]; 4] = [
        [96, 150, 215],
        [235, 235, 235],
        [200, 60, 50],
        [120, 170, 230],
    ];
    const CLOTHES: [[u8; 3]; 3] = [[40, 48, 70], [30, 30, 30], [70, 80, 95]];
    let bg = BACKGROUNDS[variant as usize % BACKGROUNDS.len()];
    let cloth = CLOTHES[variant as usize / BACKGROUNDS.len() % CLOTHES.len()];
    let (w, h) = (250u32, 350u32);
    let mut px = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = (x as f32, y as f32);
            let head = (fx - 125.0).powi(2) / 55.0f32.powi(2)
                + (fy - 140.0).powi(2) / 70.0f32.powi(2)
                <= 1.0;
            let hair = fy < 120.0
                && (fx - 125.0).powi(2) / 58.0f32.powi(2) + (fy - 128.0).powi(2) / 70.0f32.powi(2)
                    <= 1.0;
            let body = fy > 235.0 && (fx - 125.0).abs() < 40.0 + (fy - 235.0) * 1.1;
            let c = if hair {
                [35, 30, 28]
            } else if head {
                [226, 196, 170]
            } else if body {
                cloth
            } else {
                bg
            };
            px.extend_from_slice(&c);
        }
    }
    let mut out = vec![];
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Balanced);
    enc.write_header()
        .and_then(|mut w| w.write_image_data(&px))
        .expect("PNG into a Vec");
    out
}
