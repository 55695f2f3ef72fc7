//! Thumbnails for the inbox list: made once after upload from the stored chunks, kept as a
//! small JPEG in `ATTACHMENT_THUMBS`. Decoding a photo needs its full bitmap in memory, so
//! only one thumbnail is made at a time, with a hard allocation cap; an image that does not
//! fit (or does not decode) just gets no thumbnail.

use crate::ids::AttachmentId;
use std::io::BufReader;

use tokio::sync::Semaphore;

use super::read::ChunkReader;
use crate::store::Store;

/// Longest side of a thumbnail, in pixels.
pub const THUMB_PX: u32 = 320;
/// Images larger than this (bytes) get no thumbnail.
const MAX_SOURCE: u64 = 20 << 20;
/// Most memory the decoder may allocate (a 12-megapixel photo needs ~36 MB as RGB).
const MAX_ALLOC: u64 = 48 << 20;

static ONE_AT_A_TIME: Semaphore = Semaphore::const_new(1);

pub fn can_thumbnail(mime: &str, size: u64) -> bool {
    matches!(mime, "image/jpeg" | "image/png" | "image/gif") && size <= MAX_SOURCE
}

/// Make the thumbnail of a stored (committed) file; None when it cannot be made.
pub async fn make(store: &Store, id: AttachmentId, size: u64) -> Option<Vec<u8>> {
    let _permit = ONE_AT_A_TIME.acquire().await.ok()?;
    let result = store
        .read(move |rtx| {
            let reader = BufReader::new(ChunkReader::new(rtx, id, size)?);
            Ok(render(reader))
        })
        .await;
    match result {
        Ok(Ok(bytes)) => Some(bytes),
        Ok(Err(e)) => {
            tracing::debug!(id = %id, error = %e, "no thumbnail");
            None
        }
        Err(e) => {
            tracing::warn!(id = %id, error = %e, "thumbnail read failed");
            None
        }
    }
}

fn render<R: std::io::BufRead + std::io::Seek>(reader: R) -> Result<Vec<u8>, String> {
    let mut img = image::ImageReader::new(reader)
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_ALLOC);
    img.limits(limits);
    let decoded = img.decode().map_err(|e| e.to_string())?;
    let small = decoded.thumbnail(THUMB_PX, THUMB_PX).to_rgb8();
    let mut out = Vec::with_capacity(16 * 1024);
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&small)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_small_jpeg_and_refuses_garbage() {
        let img = image::RgbImage::from_fn(800, 400, |x, y| image::Rgb([x as u8, y as u8, 0]));
        let mut png = Vec::new();
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let out = render(std::io::Cursor::new(png)).unwrap();
        let back = image::load_from_memory(&out).unwrap();
        assert_eq!((back.width(), back.height()), (320, 160));
        assert!(render(std::io::Cursor::new(b"\x89PNG\r\n\x1a\nxx".to_vec())).is_err());
    }
}
