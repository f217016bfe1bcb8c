/**
 * Product images the engine serves itself, without a token, so a storefront's image URLs resolve
 * offline (docs/connect-api.md, "Product media"): `/img/products/{sku}.svg`, a small SVG drawn from
 * the SKU alone (the demo data's ProductMedia.ImageUrl points here), and
 * `/img/b2b/default-product-image.svg`, Salesforce's default product image path, which Connect
 * answers as the `defaultImage` of a product without images. Neither reads stored data: a request
 * learns nothing about the catalog.
 */
import { z } from 'zod';
import type { RouteGroup } from '../routing.js';

/** What a product image's file name may be: a SKU of letters, digits, `-` and `_`, then `.svg`. */
const FILE = /^([A-Za-z0-9_-]{1,64})\.svg$/;

const FileParams = z.object({
  file: z.string().regex(FILE, 'a product image is {sku}.svg, the SKU being 1–64 letters, digits, - or _').describe('{sku}.svg'),
});

/** A hue (0–359) from the SKU, so each product's image has its own colour. */
function hueOf(sku: string): number {
  let h = 0;
  for (const ch of sku) h = (h * 31 + ch.charCodeAt(0)) % 360;
  return h;
}

/** The SVG image of a product with this SKU (letters, digits, `-`, `_` only: nothing to escape). */
export function productImageSvg(sku: string): string {
  const hue = hueOf(sku);
  return [
    '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="240" viewBox="0 0 240 240" role="img">',
    `<title>${sku}</title>`,
    `<rect width="240" height="240" fill="hsl(${hue},55%,88%)"/>`,
    `<rect x="60" y="50" width="120" height="110" rx="14" fill="hsl(${hue},55%,45%)"/>`,
    `<text x="120" y="200" font-family="sans-serif" font-size="20" text-anchor="middle" fill="hsl(${hue},40%,20%)">${sku}</text>`,
    '</svg>',
  ].join('');
}

/** The default product image: a grey picture frame with no text. */
export const DEFAULT_PRODUCT_IMAGE_SVG = [
  '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="240" viewBox="0 0 240 240" role="img">',
  '<title>image</title>',
  '<rect width="240" height="240" fill="#f3f3f3"/>',
  '<rect x="50" y="60" width="140" height="110" rx="8" fill="none" stroke="#c9c9c9" stroke-width="6"/>',
  '<circle cx="90" cy="95" r="12" fill="#c9c9c9"/>',
  '<path d="M56 164 L104 118 L134 146 L154 128 L186 164 Z" fill="#c9c9c9"/>',
  '</svg>',
].join('');

const svgReply = { 'content-type': 'image/svg+xml', 'cache-control': 'public, max-age=86400' };

export const productImageRoutes: RouteGroup = async (app, { table }) => {
  const route = table.on(app);
  route(
    {
      method: 'GET',
      url: '/img/products/:file',
      summary: 'A product image ({sku}.svg), drawn from the SKU; no token needed',
      auth: false,
      schema: { params: FileParams },
      responses: { 200: { description: 'image/svg+xml' }, 400: { description: 'Not a {sku}.svg file name (INVALID_INPUT)' } },
    },
    async (req, reply) => reply.headers(svgReply).send(productImageSvg(FILE.exec(req.params.file)![1]!)),
  );
  route(
    {
      method: 'GET',
      url: '/img/b2b/default-product-image.svg',
      summary: 'Salesforce’s default product image (the defaultImage of a product without images); no token needed',
      auth: false,
      responses: { 200: { description: 'image/svg+xml' } },
    },
    async (_req, reply) => reply.headers(svgReply).send(DEFAULT_PRODUCT_IMAGE_SVG),
  );
};
