// Jest setup for every test file: the machine runs Node.js 20, which the AWS SDK warns about once per process (every
// jest worker). The deployed Lambdas run Node.js 24; the warning says nothing about this code, so it is silenced here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
