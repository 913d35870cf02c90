// Notifications of virtscope's own between the extension and its language server.

/**
 * The client tells the server which libvirt schemas a document is validated against: a remote host's
 * definitions against that host's own (a local copy, src/core/schema/hostSchemas.ts); without
 * `schemaDir`, against the server's default (this machine's) again.
 */
export const DOCUMENT_SCHEMAS = 'virtscope/documentSchemas';

export interface DocumentSchemasParams {
  readonly uri: string;
  readonly schemaDir?: string;
  /** The host the schemas are from, for the server's log. */
  readonly host?: string;
}
