/** The part of @mixmark-io/domino (turndown's DOM for Node) used here: parse a document, walk its nodes. */
declare module '@mixmark-io/domino' {
  interface DominoNode {
    nodeType: number;
    firstChild: DominoNode | null;
    nextSibling: DominoNode | null;
    parentNode: DominoNode | null;
  }
  interface DominoDocument {
    getElementById(id: string): DominoNode | null;
  }
  export function createDocument(html: string): DominoDocument;
}
