// `pgpipe doctor`'s output as the tests read it: one check per line, `STATUS name: detail`.
export interface DoctorLine {
  status: string;
  name: string;
  detail: string;
}

export function doctorLines(stdout: Buffer): DoctorLine[] {
  return stdout
    .toString()
    .split('\n')
    .filter((l) => /^(ok|WARN|FAIL|skip) /.test(l))
    .map((l) => {
      const match = /^(\S+)\s+([^:]+): (.*)$/.exec(l);
      return { status: match?.[1] ?? '', name: match?.[2] ?? '', detail: match?.[3] ?? '' };
    });
}
