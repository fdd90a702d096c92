// Next.js settings. The dashboard is served by probeboard's own HTTP server
// (server/index.ts), so Next only builds and renders pages here.
/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Never phone home; nothing may be fetched at build or run time.
  productionBrowserSourceMaps: false,
};
export default nextConfig;
