"""Parse a Prometheus text exposition on stdin with prometheus_client's own
parser (Debian's python3-prometheus-client) and print one line a sample,
"name{labels} value", sorted; exit 1 if it does not parse."""
import sys

from prometheus_client.parser import text_string_to_metric_families

out = []
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
        out.append(f"{s.name}{{{labels}}} {s.value:g} {fam.type}")
print("\n".join(sorted(out)))
