// Next.js settings. The dashboard is served by probeboard's own HTTP server
// (server/index.ts), so Next only builds and renders pages here.
/** @type {import('next').NextConfig} */
const nextConfig = {
  // A static export (out/): the dashboard is a client-side app served by probeboard's own
  // server (server/http/static-files.ts), so no Next server runs in the root backend.
  output: 'export',
  reactStrictMode: true,
  poweredByHeader: false,
  // Never phone home; nothing may be fetched at build or run time.
  productionBrowserSourceMaps: false,
  // `npm run typecheck` checks the whole repository (server included) with tsc; a type error in
  // server code must not stop `npm start` from building the dashboard.
  typescript: { ignoreBuildErrors: true },
};
export default nextConfig;
