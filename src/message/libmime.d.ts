// The part of libmime (5.3.x, CommonJS, no bundled types) that src/message uses.
declare module 'libmime' {
  interface ParsedHeaderValue {
    value: string | false;
    params: Record<string, unknown>;
  }
  const libmime: {
    parseHeaderValue(str: string): ParsedHeaderValue;
  };
  export default libmime;
}
