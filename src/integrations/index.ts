/** The integrations layer: the calculator contract, the payment-gateway contract, defaults and registry. */
export * from './contract.js';
export * from './payment.js';
export { IntegrationRegistry, type IntegrationsOption, type Registration } from './registry.js';
export { DEFAULT_INTEGRATIONS } from './defaults.js';
export * from './cart-calculate.js';
