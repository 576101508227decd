// Types of scripts/imapflow-stubs.mjs (imported by vitest.config.ts).
export declare const IMAPFLOW_STUBS: Record<string, string[]>
export declare function isStubbed(specifier: string, importer: string | undefined): boolean
export declare function stubSource(name: string): string
