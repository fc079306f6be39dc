/**
 * The SVG layout of a machine's diagram, for the diagram function alone: apart from `read.ts`
 * so no other bundle holds the renderer (docs/deploying.md#packaging).
 */
export { renderDiagramSvg as diagramSvg } from '../adapters/diagram/svgRenderer';
