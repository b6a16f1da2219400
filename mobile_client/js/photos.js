// Photos are made small on the phone before they are queued or uploaded: at most 1600 px on the
// long side, JPEG, at most 500 kB; the orientation of the camera is applied. A photo the browser
// cannot decode (an iPhone HEIC in a browser other than Safari) is sent as it is: the server
// re-encodes HEIC (pillow-heif) and strips its metadata.

export const MAX_SIDE = 1600;
export const MAX_BYTES = 500_000;
export const MAX_ORIGINAL_BYTES = 10 * 1024 * 1024; // the server's limit for a photo sent as is
export const MAX_PHOTOS = 3;
const HEIC = /\.(heic|heif)$/i;

export class PhotoError extends Error {
  constructor(code) {
    super(code);
    this.code = code;
  }
}

export function isHeic(file) {
  return /image\/hei[cf]/i.test(file.type || "") || HEIC.test(file.name || "");
}

async function decode(file) {
  try {
    return await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch {
    // Some browsers decode more through <img> than through createImageBitmap.
  }
  if (typeof document === "undefined") return null;
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } catch {
    return null;
  } finally {
    URL.revokeObjectURL(url);
  }
}

function canvasOf(width, height) {
  if (typeof OffscreenCanvas !== "undefined") return new OffscreenCanvas(width, height);
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

function encode(canvas, quality) {
  if (canvas.convertToBlob) return canvas.convertToBlob({ type: "image/jpeg", quality });
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
}

/**
 * {blob, width, height, name, converted}: the photo ready to send. `converted` is false when the
 * original is sent (undecodable HEIC). Throws PhotoError("photo-unreadable" | "photo-too-large").
 */
export async function prepare(file, { maxSide = MAX_SIDE, maxBytes = MAX_BYTES } = {}) {
  const image = await decode(file);
  if (!image) {
    if (isHeic(file) && file.size <= MAX_ORIGINAL_BYTES) {
      return { blob: file, width: null, height: null, name: file.name || "photo.heic", converted: false };
    }
    throw new PhotoError(isHeic(file) ? "photo-too-large" : "photo-unreadable");
  }
  const sourceWidth = image.width || image.naturalWidth;
  const sourceHeight = image.height || image.naturalHeight;
  let scale = Math.min(1, maxSide / Math.max(sourceWidth, sourceHeight));
  let quality = 0.82;
  for (let attempt = 0; attempt < 8; attempt += 1) {
    const width = Math.max(1, Math.round(sourceWidth * scale));
    const height = Math.max(1, Math.round(sourceHeight * scale));
    const canvas = canvasOf(width, height);
    const context = canvas.getContext("2d");
    context.fillStyle = "#fff"; // a transparent PNG becomes white, not black
    context.fillRect(0, 0, width, height);
    context.drawImage(image, 0, 0, width, height);
    const blob = await encode(canvas, quality);
    if (blob && blob.size <= maxBytes) {
      image.close?.();
      const name = (file.name || "photo").replace(/\.[^.]*$/, "") + ".jpg";
      return { blob, width, height, name, converted: true };
    }
    if (quality > 0.6) quality -= 0.1;
    else scale *= 0.8;
  }
  image.close?.();
  throw new PhotoError("photo-too-large");
}
