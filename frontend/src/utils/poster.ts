// The A4 poster of an inflow route, drawn at 300 dpi (2480 × 3508 px) on a
// canvas with the computer's Japanese fonts; the Go side checks its size and
// saves it as PNG or places it on an A4 PDF page (internal/routes).
import { FONT_STACK } from '../theme'

export const POSTER_WIDTH = 2480
export const POSTER_HEIGHT = 3508

export interface PosterText {
  branch: string
  route: string
  lead: string
  scan: string
  scan2: string
}

function loadImage(src: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const img = new Image()
    img.onload = () => resolve(img)
    img.onerror = () => reject(new Error('poster: QR image did not load'))
    img.src = src
  })
}

/** Shrinks the font until text fits maxWidth. */
function fit(ctx: CanvasRenderingContext2D, text: string, weight: string, size: number, maxWidth: number): void {
  let s = size
  do {
    ctx.font = `${weight} ${s}px ${FONT_STACK}`
    s -= 4
  } while (ctx.measureText(text).width > maxWidth && s > 24)
}

/** Draws the poster and returns it as a PNG data: URL. */
export async function drawPoster(qrDataURL: string, text: PosterText): Promise<string> {
  const canvas = document.createElement('canvas')
  canvas.width = POSTER_WIDTH
  canvas.height = POSTER_HEIGHT
  const ctx = canvas.getContext('2d')
  if (!ctx) throw new Error('poster: no canvas')
  const W = POSTER_WIDTH
  ctx.fillStyle = '#ffffff'
  ctx.fillRect(0, 0, W, POSTER_HEIGHT)
  // LINE green band with the branch's name.
  ctx.fillStyle = '#06c755'
  ctx.fillRect(0, 0, W, 720)
  ctx.fillStyle = '#ffffff'
  ctx.textAlign = 'center'
  ctx.textBaseline = 'middle'
  fit(ctx, text.branch, '700', 150, W - 240)
  ctx.fillText(text.branch, W / 2, 300)
  fit(ctx, text.lead, '700', 120, W - 240)
  ctx.fillText(text.lead, W / 2, 540)
  // The QR code, sharp at any scale (nearest neighbour), with a quiet zone.
  const qr = await loadImage(qrDataURL)
  const side = 1700
  ctx.imageSmoothingEnabled = false
  ctx.drawImage(qr, (W - side) / 2, 900, side, side)
  ctx.fillStyle = '#1e2a38'
  fit(ctx, text.scan, '500', 96, W - 240)
  ctx.fillText(text.scan, W / 2, 2800)
  fit(ctx, text.scan2, '500', 96, W - 240)
  ctx.fillText(text.scan2, W / 2, 2940)
  // The route's name, small, so staff can tell posters apart.
  ctx.fillStyle = '#7c8796'
  fit(ctx, text.route, '400', 64, W - 240)
  ctx.fillText(text.route, W / 2, 3300)
  return canvas.toDataURL('image/png')
}
