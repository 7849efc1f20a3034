#!/usr/bin/env bash
# The fingerprint of the dependency inputs; the lock files record it, `make lint` compares.
cd "$(dirname "$0")/.." && cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-16
