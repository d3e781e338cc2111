/** See ./web-push-encrypt.mjs. */
export declare const PREPARED_BYTES: number;
export declare function prepareWebPush(p256dh: string, auth: string): Buffer;
export declare function sealWebPush(prepared: Uint8Array, payload: Buffer): Buffer;
export declare function encryptWebPush(payload: Buffer, p256dh: string, auth: string): Buffer;
