"""Posterior means mu(x): where a trained model puts its training examples."""
import torch


@torch.no_grad()
def image_means(model, x, batch_size=512):
    """mu for every image of x (N, H, W) float32: (N, Z)."""
    model.eval()
    return torch.cat([model.encode(torch.from_numpy(x[i:i + batch_size]))[0]
                      for i in range(0, len(x), batch_size)]).numpy()


@torch.no_grad()
def sentence_means(model, corpus, batch_size=512):
    """mu for every sentence of a Corpus, in row order: (N, Z)."""
    model.eval()
    return torch.cat([model.encode(*corpus.batch(idx)[1:])[0] for idx in corpus.batches(batch_size)]).numpy()
