import { mermaidDiagram } from '../../../domain/diagram';
import { checkSvgSize, decorateSvg, diagramMarks } from '../../../domain/diagramSvg';
import type { HistoryEvent, MachineRecord } from '../../../domain/machine';

/**
 * The machine's state diagram as a self-contained SVG: the Mermaid text of `mermaidDiagram` laid
 * out by beautiful-mermaid (server side, no DOM), then marked up (domain/diagramSvg.ts
 * `decorateSvg`). Too large a diagram is refused before any layout (`checkSvgSize`).
 */
export async function renderDiagramSvg(record: MachineRecord, history: HistoryEvent[]): Promise<string> {
  checkSvgSize(record, history);
  // Loaded on first use: the renderer (and its layout engine) costs ~0.5 s to load, and only
  // SVG requests need it. A dynamic import also loads this ESM-only package from CommonJS.
  const { renderMermaidSVG } = await import('beautiful-mermaid');
  const raw = renderMermaidSVG(mermaidDiagram(record, history), { bg: '#ffffff', fg: '#27272a', font: 'system-ui' });
  return decorateSvg(raw, diagramMarks(record, history));
}
