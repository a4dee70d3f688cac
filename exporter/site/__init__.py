"""Static sites: build one from bundles (`build`), serve one on 127.0.0.1 (`serve`). No torch."""
