import '../../local/harness/quiet-lambda-runtime';
import 'aws-sdk-client-mock-vitest/extend';
