/** See ./web-push-encrypt.mjs. */
export declare function encryptWebPush(payload: Buffer, p256dh: string, auth: string): Buffer;
