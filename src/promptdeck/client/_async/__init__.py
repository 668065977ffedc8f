"""The client's methods by concern, one mixin a module; the client class in the package above
combines them with the hot path."""
