// Writes infra/prometheus/prometheus-rule.yaml (a Prometheus Operator PrometheusRule) from the plain rules
// file infra/prometheus/gtb-rules.yaml, so that the two never differ:
//   node --conditions=source --import tsx infra/scripts/gen-prometheus-rule.ts [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const infra = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(infra, 'prometheus', 'gtb-rules.yaml');
const target = join(infra, 'prometheus', 'prometheus-rule.yaml');

/** The PrometheusRule text for the rules file's groups. */
export function prometheusRuleYaml(rulesText: string): string {
  const { groups } = parse(rulesText) as { groups: unknown[] };
  const resource = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'gtb-rules',
      namespace: 'gtb',
      labels: { 'app.kubernetes.io/part-of': 'genesys-token-broker', role: 'alert-rules' },
    },
    spec: { groups },
  };
  return [
    '# Generated from infra/prometheus/gtb-rules.yaml by infra/scripts/gen-prometheus-rule.ts: edit that file, not this one.',
    '# Needs the Prometheus Operator (its CRDs); apply it with `kubectl apply -f` where the operator runs.',
    stringify(resource, { lineWidth: 0 }),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = prometheusRuleYaml(readFileSync(source, 'utf8'));
  if (process.argv.includes('--check')) {
    if (readFileSync(target, 'utf8') !== text) {
      console.error(`${target} is out of date: run node --conditions=source --import tsx infra/scripts/gen-prometheus-rule.ts`);
      process.exit(1);
    }
  } else {
    writeFileSync(target, text);
    console.log(`wrote ${target}`);
  }
}
