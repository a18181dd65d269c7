declare module 'qrcode-terminal' {
  /** Renders `text` as a QR code of block characters; calls back with it (else prints it). */
  export function generate(text: string, opts?: { small?: boolean }, cb?: (qr: string) => void): void;
}
