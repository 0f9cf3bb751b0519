"""One-class detectors trained on stored embeddings (issue 8)."""
