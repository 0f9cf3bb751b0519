# `make demo` and `make test` work on a fresh clone: they create .venv and install the pinned
# dependencies (requirements.txt) on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := demo-out
AS := $(BIN)/actionstore --store $(DEMO)/store

.PHONY: install demo test clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "actionstore needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	@echo "==> 1. write the synthetic demo dataset (10 actions, real H.264 clips) and one unseen clip per action"
	$(BIN)/actionstore demo-data $(DEMO)/videos --holdout $(DEMO)/new-clips
	@echo "==> 2. ingest: probe, hash and catalogue every clip, with the labels CSV's display names"
	$(AS) ingest $(DEMO)/videos --labels $(DEMO)/videos/dataset_info.csv
	@echo "==> 3. embed every clip once with the default backbone (flow_motion: weight-free optical-flow motion)"
	$(AS) embed
	@echo "==> 4. embed again: the store already has every clip, so no model runs"
	$(AS) embed
	@echo "==> 4b. two more sets for the leaderboard: ImageNet appearance (EfficientNet-Lite0), and an untrained 3-D CNN baseline"
	$(AS) embed --backbone effnet_lite0_frames
	$(AS) embed --backbone tiny3d
	@echo "==> 4c. a fused set: appearance and motion, each scaled to unit length, side by side (no model runs)"
	$(AS) embed --backbone fuse:effnet_lite0_frames+flow_motion
	@echo "==> 4d. two augmented views of every clip in the default set, made on the fly (never mirrored; for the detectors)"
	$(AS) augment --views 2 --seed 0
	@echo "==> 5. SQL over the store: clips and vectors per action"
	$(AS) sql "SELECT v.label, l.name_it, count(*) AS clips, count(e.video_id) AS vectors FROM videos v LEFT JOIN labels l USING (label) LEFT JOIN embeddings e USING (video_id) GROUP BY ALL ORDER BY v.label"
	$(AS) sets
	@echo "==> 6. nearest stored clips to a new clip the store has never seen"
	$(AS) neighbors $(DEMO)/new-clips/screw_allenkey_2.mp4 -k 5
	@echo "==> 7. distances in SQL: for each action, the nearest other action by centroid"
	$(AS) sql "SELECT a.label, arg_min(b.label, array_distance(a.centroid, b.centroid)) AS nearest_class, min(array_distance(a.centroid, b.centroid)) AS distance FROM centroids a JOIN centroids b ON a.label <> b.label GROUP BY a.label ORDER BY a.label"
	@echo "==> 8. analyses from the store: a t-SNE map, class spheres, and the separability leaderboard"
	$(AS) analyze tsne --format csv > $(DEMO)/tsne.csv
	$(AS) analyze hypersphere --format csv > $(DEMO)/hypersphere.csv
	$(AS) compare
	@echo "==> 9. a one-class detector for screw (the original autoencoder), trained from stored vectors in seconds, evaluated beside the baselines"
	$(AS) detector train screw-ae --target screw --force
	$(AS) detector evaluate screw-ae --vs unscrew
	@echo "==> 10. one HTML page with the plots and tables (open it in a browser)"
	$(AS) report
	@echo "==> 11. the verdict for two clips the store has never seen"
	$(AS) score $(DEMO)/new-clips/screw.mp4 --detector screw-ae
	$(AS) score $(DEMO)/new-clips/unscrew.mp4 --detector screw-ae
	@echo "==> done: the store is in $(DEMO)/store ($$(du -sh $(DEMO)/store | cut -f1))"
	@echo "==> serve it over HTTP (README, Service): ACTIONSTORE_TOKEN=<a secret> $(AS) serve   (or: $(AS) serve --no-auth, on 127.0.0.1 only)"

test: $(STAMP)
	$(BIN)/python -m pytest

clean:
	rm -rf $(DEMO) .pytest_cache
