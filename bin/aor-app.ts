#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { addAorStacks } from '../lib/aor-app';
import { parseAorConfig } from '../lib/config';

// The only place that reads the environment of a synth: everything below gets a validated config.
const app = new App();
addAorStacks(app, parseAorConfig(app.node.tryGetContext('aor')));
app.synth();
