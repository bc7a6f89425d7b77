// The part of nodemailer's SMTP/LMTP client (9.0.x, CommonJS, no bundled types) that src/adapters/next-hop.ts
// uses.
declare module 'nodemailer/lib/smtp-connection/index.js' {
  import type { EventEmitter } from 'node:events';
  import type { Socket } from 'node:net';

  export interface SmtpConnectionOptions {
    lmtp?: boolean;
    /** An already connected socket (we connect unix and inet sockets ourselves). */
    connection?: Socket;
    name?: string;
    ignoreTLS?: boolean;
    connectionTimeout?: number;
    greetingTimeout?: number;
    socketTimeout?: number;
    logger?: boolean;
    debug?: boolean;
    /**
     * Documented "custom authentication" handlers, keyed by method name: login({ method }) runs one with a
     * sendCommand that writes any command line and resolves with the server's reply (next-hop.ts: XFORWARD).
     */
    customAuth?: Record<string, (context: CustomAuthContext) => Promise<void> | void>;
  }

  export interface CustomAuthContext {
    sendCommand(command: string): Promise<{ status: number; response: string }>;
    resolve(): void;
    reject(error: Error | string): void;
  }

  export interface SendEnvelope {
    from: string;
    to: string[];
    size?: number;
    use8BitMime?: boolean;
  }

  export interface SmtpError extends Error {
    code?: string;
    response?: string;
    responseCode?: number;
    command?: string;
    recipient?: string;
    rejectedErrors?: SmtpError[];
  }

  export interface SendInfo {
    accepted: string[];
    rejected: string[];
    rejectedErrors?: SmtpError[];
    response: string;
  }

  class SMTPConnection extends EventEmitter {
    constructor(options: SmtpConnectionOptions);
    connect(callback: (error?: SmtpError) => void): void;
    send(envelope: SendEnvelope, message: Buffer, callback: (error: SmtpError | null, info: SendInfo) => void): void;
    login(auth: { method: string }, callback: (error: SmtpError | null) => void): void;
    quit(): void;
    /** RSET: ends the transaction state, keeps the session. */
    reset(callback: (error: SmtpError | null) => void): void;
    close(): void;
    readonly lastServerResponse?: string;
  }
  export default SMTPConnection;
}
