"""Model families: one adapter per family, chosen by `config.model_type`, and tiny-model builders."""
