int dummy_layer;
