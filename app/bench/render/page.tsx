import { RenderBench } from '../../../components/bench/RenderBench.tsx';

export const metadata = { title: 'probeboard: render benchmark' };

/** /bench/render?nodes=10000&updates=30 — driven by bench/render.ts. */
export default function Page() {
  return <RenderBench />;
}
