// Types for the official package (dev dependency, used only to cross-check our UserSig).
declare module 'tls-sig-api-v2' {
  class Api {
    constructor(sdkappid: number, key: string);
    genUserSig(userid: string, expire: number): string;
    /** Internal, but it is the official HMAC step: base64 HMAC-SHA256 of the 4-line string. */
    _hmacsha256(identifier: string, currTime: number, expire: number, base64UserBuf: string | null): string;
  }
  const official: { Api: typeof Api };
  export default official;
}
