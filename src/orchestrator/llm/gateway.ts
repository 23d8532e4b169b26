/**
 * The models steps may call: the configured providers by name, and which one a step that names
 * none gets (the provider called `default`, or the only one).
 */
import { StepFailure } from "../step-error.ts";
import type { LlmProvider } from "./providers.ts";

export class ModelGateway {
  readonly #providers: ReadonlyMap<string, LlmProvider>;

  constructor(providers: ReadonlyMap<string, LlmProvider>) {
    this.#providers = providers;
  }

  /** The provider a step names (or the default one), or a `llm_provider_unknown` failure. */
  provider(name: string | undefined): LlmProvider {
    const wanted =
      name ??
      (this.#providers.has("default")
        ? "default"
        : this.#providers.size === 1
          ? ([...this.#providers.keys()][0] as string)
          : undefined);
    const provider = wanted === undefined ? undefined : this.#providers.get(wanted);
    if (provider === undefined) {
      const known = [...this.#providers.keys()];
      throw new StepFailure(
        "llm_provider_unknown",
        known.length === 0
          ? "no model provider is configured (llm_providers)"
          : `no provider ${wanted ?? "(default)"}; configured: ${known.join(", ")}`,
        { retryable: false, details: { provider: wanted ?? null } },
      );
    }
    return provider;
  }

  /** Refuses a model the provider's `models` list does not name. */
  checkModel(provider: LlmProvider, model: string): void {
    if (provider.models === null || provider.models.includes(model)) return;
    throw new StepFailure(
      "llm_model_denied",
      `model ${model} is not among the models of provider ${provider.name}`,
      { retryable: false, details: { provider: provider.name, model } },
    );
  }
}
