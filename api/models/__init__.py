"""Request and response models: what ``/openapi.json`` says the service accepts and
returns. Resource models are generated from the same specs the domain validates with."""
