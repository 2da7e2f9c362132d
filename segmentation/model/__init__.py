"""The segmentation model: the estimator, its selection, the registry, stable ids."""
