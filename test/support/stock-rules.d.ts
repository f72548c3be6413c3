/** Types for stock-rules.js (plain CommonJS so the JS benchmarks can require it). */
export declare const STOCK_RULES_DIR: string;
export declare const STOCK_SYSCALL_FILES: readonly string[];
export declare const STOCK_STABLE: string;
export declare const STOCK_INCUBATING: string;
export declare const STOCK_SANDBOX: string;
export declare const STOCK_K8S_AUDIT: string;
